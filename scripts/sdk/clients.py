"""Drive each real SDK through the proxy (HTTPS_PROXY and SSL_CERT_FILE from
`llmspy env`, set by the caller) and return what it received, in a shape
that can be compared with the case: model, text, thinking, tool_calls
[{id, name, arguments}], stop, usage (the provider's own fields)."""

from __future__ import annotations

import asyncio
import json

from cases import BY_ID, MCP_CALLS, MCP_TOOL, WEATHER_TOOL, marker

TIMEOUT = 20.0
SYSTEM = "You are a terse assistant."

# The API keys the clients send; scripts/sdk/replay.py swaps in real-looking
# ones to prove that recorded fixtures hold none of them.
API_KEYS = {"anthropic": "sk-ant-e2e", "openai": "sk-e2e", "gemini": "e2e-gemini-key"}


def prompt(case: dict) -> str:
    return f"Answer briefly. {marker(case['id'])}"


def event_of(obj) -> dict:
    """A streamed event as the SDK handed it over, as plain JSON data."""
    return obj.model_dump(mode="json", warnings=False)


def plain(obj) -> dict:
    """A pydantic model (or dict) as a plain dict without unset fields."""
    if obj is None:
        return {}
    if hasattr(obj, "model_dump"):
        return obj.model_dump(exclude_none=True)
    return dict(obj)


# ------------------------------------------------------------------ Anthropic


def run_anthropic(case: dict, base_url: str, history: dict) -> dict:
    import anthropic

    client = anthropic.Anthropic(
        api_key=API_KEYS["anthropic"], base_url=base_url, max_retries=0, timeout=TIMEOUT
    )
    kwargs: dict = {"model": case["model"], "max_tokens": 2048, "system": SYSTEM}
    if case.get("tool") or case.get("continues"):
        kwargs["tools"] = [
            {
                "name": WEATHER_TOOL["name"],
                "description": WEATHER_TOOL["description"],
                "input_schema": WEATHER_TOOL["schema"],
            }
        ]
    if case.get("thinking"):
        kwargs["thinking"] = {"type": "enabled", "budget_tokens": 1024}
    if parent := case.get("continues"):
        prev = history[parent]
        tool = prev["tool_calls"][0]
        messages = prev["messages"] + [
            {"role": "assistant", "content": prev["content"]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": tool["id"], "content": "18C, sunny"},
                    {"type": "text", "text": prompt(case)},
                ],
            },
        ]
    else:
        messages = [{"role": "user", "content": prompt(case)}]
    kwargs["messages"] = messages

    if case.get("http_error"):
        try:
            client.messages.create(**kwargs)
        except anthropic.APIStatusError as e:
            body = e.body if isinstance(e.body, dict) else {}
            return {
                "error": {
                    "status": e.status_code,
                    "type": (body.get("error") or {}).get("type"),
                    "message": (body.get("error") or {}).get("message"),
                }
            }
        return {"error": None}

    events = None
    if case["stream"]:
        with client.messages.stream(**kwargs) as stream:
            events = [event_of(e) for e in stream]
            m = stream.get_final_message()
    else:
        m = client.messages.create(**kwargs)
    got = {
        "model": m.model,
        "text": "".join(b.text for b in m.content if b.type == "text"),
        "thinking": "".join(b.thinking for b in m.content if b.type == "thinking"),
        "tool_calls": [
            {"id": b.id, "name": b.name, "arguments": b.input}
            for b in m.content
            if b.type == "tool_use"
        ],
        "stop": m.stop_reason,
        "usage": plain(m.usage),
    }
    if events is not None:
        got["events"] = events
    history[case["id"]] = {
        **got,
        "messages": messages,
        "content": [b.model_dump(exclude_none=True) for b in m.content],
    }
    return got


# ------------------------------------------------------------------ OpenAI


def openai_client(base_url: str):
    import openai

    return openai.OpenAI(
        api_key=API_KEYS["openai"], base_url=base_url + "/v1", max_retries=0, timeout=TIMEOUT
    )


def run_openai_chat(case: dict, base_url: str, history: dict) -> dict:
    client = openai_client(base_url)
    kwargs: dict = {"model": case["model"]}
    if case.get("tool") or case.get("continues"):
        kwargs["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": WEATHER_TOOL["name"],
                    "description": WEATHER_TOOL["description"],
                    "parameters": WEATHER_TOOL["schema"],
                },
            }
        ]
    if parent := case.get("continues"):
        prev = history[parent]
        tool = prev["tool_calls"][0]
        messages = prev["messages"] + [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": tool["id"],
                        "type": "function",
                        "function": {"name": tool["name"], "arguments": json.dumps(tool["arguments"])},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": tool["id"], "content": f"22C, clear {marker(case['id'])}"},
        ]
    else:
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt(case)}]
    kwargs["messages"] = messages

    if case["stream"]:
        text, calls, stop, usage, model = [], {}, None, None, None
        events = []
        for chunk in client.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        ):
            events.append(event_of(chunk))
            model = chunk.model
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                d = choice.delta
                if d.content:
                    text.append(d.content)
                for tc in d.tool_calls or []:
                    c = calls.setdefault(tc.index, {"id": None, "name": "", "arguments": ""})
                    if tc.id:
                        c["id"] = tc.id
                    if tc.function and tc.function.name:
                        c["name"] += tc.function.name
                    if tc.function and tc.function.arguments:
                        c["arguments"] += tc.function.arguments
                if choice.finish_reason:
                    stop = choice.finish_reason
        tool_calls = [
            {**c, "arguments": json.loads(c["arguments"])} for _, c in sorted(calls.items())
        ]
        got = {
            "model": model,
            "text": "".join(text),
            "tool_calls": tool_calls,
            "stop": stop,
            "events": events,
        }
    else:
        r = client.chat.completions.create(**kwargs)
        msg = r.choices[0].message
        got = {
            "model": r.model,
            "text": msg.content or "",
            "tool_calls": [
                {"id": t.id, "name": t.function.name, "arguments": json.loads(t.function.arguments)}
                for t in msg.tool_calls or []
            ],
            "stop": r.choices[0].finish_reason,
        }
        usage = r.usage
    got["usage"] = plain(usage)
    history[case["id"]] = {**got, "messages": messages}
    return got


def run_openai_responses(case: dict, base_url: str, history: dict) -> dict:
    client = openai_client(base_url)
    kwargs: dict = {"model": case["model"], "instructions": SYSTEM, "input": prompt(case)}
    if case.get("tool"):
        kwargs["tools"] = [
            {
                "type": "function",
                "name": WEATHER_TOOL["name"],
                "description": WEATHER_TOOL["description"],
                "parameters": WEATHER_TOOL["schema"],
                "strict": False,
            }
        ]
    events = None
    if case["stream"]:
        with client.responses.stream(**kwargs) as stream:
            events = [event_of(e) for e in stream]
            r = stream.get_final_response()
    else:
        r = client.responses.create(**kwargs)
    got = {
        "model": r.model,
        "text": r.output_text,
        "tool_calls": [
            {"id": o.call_id, "name": o.name, "arguments": json.loads(o.arguments)}
            for o in r.output
            if o.type == "function_call"
        ],
        "stop": r.status,
        "usage": plain(r.usage),
    }
    if events is not None:
        got["events"] = events
    return got


# ------------------------------------------------------------------ Gemini


def run_gemini(case: dict, base_url: str, history: dict) -> dict:
    from google import genai
    from google.genai import types

    client = genai.Client(
        api_key=API_KEYS["gemini"],
        http_options=types.HttpOptions(
            base_url=base_url, api_version="v1beta", timeout=int(TIMEOUT * 1000)
        ),
    )
    config: dict = {"system_instruction": SYSTEM}
    if case.get("tool"):
        config["tools"] = [
            types.Tool(
                function_declarations=[
                    types.FunctionDeclaration(
                        name=WEATHER_TOOL["name"],
                        description=WEATHER_TOOL["description"],
                        parameters_json_schema=WEATHER_TOOL["schema"],
                    )
                ]
            )
        ]
        config["automatic_function_calling"] = types.AutomaticFunctionCallingConfig(disable=True)
    args = {"model": case["model"], "contents": prompt(case), "config": types.GenerateContentConfig(**config)}

    def text_of(r) -> str:
        parts = r.candidates[0].content.parts if r.candidates and r.candidates[0].content else []
        return "".join(p.text for p in parts or [] if p.text)

    if case["stream"]:
        text, calls, stop, usage, model = [], [], None, None, None
        for r in client.models.generate_content_stream(**args):
            text.append(text_of(r))
            calls += r.function_calls or []
            if r.candidates and r.candidates[0].finish_reason:
                stop = r.candidates[0].finish_reason
            usage, model = r.usage_metadata, r.model_version
        text = "".join(text)
    else:
        r = client.models.generate_content(**args)
        text, calls = text_of(r), r.function_calls or []
        stop, usage, model = r.candidates[0].finish_reason, r.usage_metadata, r.model_version
    u = plain(usage)
    return {
        "model": model,
        "text": text,
        "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.args} for c in calls],
        "stop": getattr(stop, "value", stop),
        # The SDK names the wire's camelCase fields in snake_case.
        "usage": {
            "promptTokenCount": u.get("prompt_token_count"),
            "cachedContentTokenCount": u.get("cached_content_token_count"),
            "candidatesTokenCount": u.get("candidates_token_count"),
            "thoughtsTokenCount": u.get("thoughts_token_count"),
            "totalTokenCount": u.get("total_token_count"),
        },
    }


# ------------------------------------------------------------------ Ollama


def run_ollama(case: dict, base_url: str, history: dict) -> dict:
    import ollama

    client = ollama.Client(host=base_url, timeout=TIMEOUT)
    kwargs: dict = {
        "model": case["model"],
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt(case)}],
    }
    if case.get("tool"):
        kwargs["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": WEATHER_TOOL["name"],
                    "description": WEATHER_TOOL["description"],
                    "parameters": WEATHER_TOOL["schema"],
                },
            }
        ]
    if case["stream"]:
        text, last = [], None
        for part in client.chat(**kwargs, stream=True):
            text.append(part.message.content or "")
            last = part
        r, content = last, "".join(text)
    else:
        r = client.chat(**kwargs, stream=False)
        content = r.message.content or ""
    return {
        "model": r.model,
        "text": content,
        "tool_calls": [
            {"id": None, "name": t.function.name, "arguments": dict(t.function.arguments)}
            for t in r.message.tool_calls or []
        ],
        "stop": r.done_reason,
        "usage": {"prompt_eval_count": r.prompt_eval_count, "eval_count": r.eval_count},
    }


# ------------------------------------------------------------------ Clouds


def anthropic_result(m, events=None) -> dict:
    got = {
        "model": m.model,
        "text": "".join(b.text for b in m.content if b.type == "text"),
        "thinking": "".join(b.thinking for b in m.content if b.type == "thinking"),
        "tool_calls": [
            {"id": b.id, "name": b.name, "arguments": b.input} for b in m.content if b.type == "tool_use"
        ],
        "stop": m.stop_reason,
        "usage": plain(m.usage),
    }
    if events is not None:
        got["events"] = events
    return got


def bedrock_client(base_url: str):
    import os

    import boto3
    from botocore.config import Config

    # Fake keys sign the request; botocore reads HTTPS_PROXY itself and is
    # told the CA bundle `llmspy env` set.
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=base_url,
        aws_access_key_id="AKIDE2EEXAMPLE",
        aws_secret_access_key="e2e-secret-access-key",
        aws_session_token="e2e-session-token",
        verify=os.environ.get("SSL_CERT_FILE"),
        config=Config(retries={"max_attempts": 1}, read_timeout=TIMEOUT),
    )


def run_bedrock(case: dict, base_url: str, history: dict) -> dict:
    if case.get("client") == "anthropic_bedrock":
        import anthropic

        client = anthropic.AnthropicBedrock(
            aws_access_key="AKIDE2EEXAMPLE",
            aws_secret_key="e2e-secret-access-key",
            aws_region="us-east-1",
            base_url=base_url,
            max_retries=0,
            timeout=TIMEOUT,
        )
        kwargs = {"model": case["model"], "max_tokens": 2048, "system": SYSTEM,
                  "messages": [{"role": "user", "content": prompt(case)}]}
        if case.get("thinking"):
            kwargs["thinking"] = {"type": "enabled", "budget_tokens": 1024}
        with client.messages.stream(**kwargs) as stream:
            events = [event_of(e) for e in stream]
            return anthropic_result(stream.get_final_message(), events)
    client = bedrock_client(base_url)
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 1024,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": prompt(case)}],
    }
    r = client.invoke_model_with_response_stream(modelId=case["model"], body=json.dumps(body))
    text, model, stop, usage, events = [], None, None, {}, []
    for e in r["body"]:
        data = json.loads(e["chunk"]["bytes"])
        events.append(data)
        if data["type"] == "message_start":
            model = data["message"]["model"]
            usage.update(data["message"]["usage"])
        elif data["type"] == "content_block_delta" and data["delta"]["type"] == "text_delta":
            text.append(data["delta"]["text"])
        elif data["type"] == "message_delta":
            stop = data["delta"]["stop_reason"]
            usage.update(data["usage"])
    return {"model": model, "text": "".join(text), "tool_calls": [], "stop": stop,
            "usage": usage, "events": events}


def run_bedrock_converse(case: dict, base_url: str, history: dict) -> dict:
    client = bedrock_client(base_url)
    r = client.converse_stream(
        modelId=case["model"],
        system=[{"text": SYSTEM}],
        messages=[{"role": "user", "content": [{"text": prompt(case)}]}],
        inferenceConfig={"maxTokens": 512},
        toolConfig={"tools": [{"toolSpec": {
            "name": WEATHER_TOOL["name"], "description": WEATHER_TOOL["description"],
            "inputSchema": {"json": WEATHER_TOOL["schema"]}}}]},
    )
    text, tools, stop, usage, events = [], {}, None, None, []
    for e in r["stream"]:
        events.append(e)
        if "contentBlockStart" in e:
            s = e["contentBlockStart"]
            t = s["start"]["toolUse"]
            tools[s["contentBlockIndex"]] = {"id": t["toolUseId"], "name": t["name"], "input": ""}
        elif "contentBlockDelta" in e:
            d = e["contentBlockDelta"]
            if "text" in d["delta"]:
                text.append(d["delta"]["text"])
            elif "toolUse" in d["delta"]:
                tools[d["contentBlockIndex"]]["input"] += d["delta"]["toolUse"]["input"]
        elif "messageStop" in e:
            stop = e["messageStop"]["stopReason"]
        elif "metadata" in e:
            usage = e["metadata"]["usage"]
    return {
        "text": "".join(text),
        "tool_calls": [{"id": t["id"], "name": t["name"], "arguments": json.loads(t["input"])}
                       for _, t in sorted(tools.items())],
        "stop": stop,
        "usage": usage,
        "events": events,
    }


def run_vertex_anthropic(case: dict, base_url: str, history: dict) -> dict:
    import anthropic

    # An access token spares the client Google's credential lookup.
    client = anthropic.AnthropicVertex(
        region="us-east5",
        project_id="llmspy-e2e",
        access_token="ya29.e2e-fake-token",
        base_url=base_url + "/v1",
        max_retries=0,
        timeout=TIMEOUT,
    )
    with client.messages.stream(
        model=case["model"], max_tokens=1024, system=SYSTEM,
        messages=[{"role": "user", "content": prompt(case)}],
    ) as stream:
        events = [event_of(e) for e in stream]
        return anthropic_result(stream.get_final_message(), events)


def run_azure_chat(case: dict, base_url: str, history: dict) -> dict:
    import openai

    client = openai.AzureOpenAI(
        api_key="e2e-azure-key", api_version="2024-10-21", azure_endpoint=base_url,
        max_retries=0, timeout=TIMEOUT,
    )
    r = client.chat.completions.create(
        model=case["model"],
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt(case)}],
    )
    msg = r.choices[0].message
    return {"model": r.model, "text": msg.content or "", "tool_calls": [],
            "stop": r.choices[0].finish_reason, "usage": plain(r.usage)}


RUNNERS = {
    "bedrock": run_bedrock,
    "bedrock_converse": run_bedrock_converse,
    "vertex_anthropic": run_vertex_anthropic,
    "azure_chat": run_azure_chat,
    "anthropic": run_anthropic,
    "openai_chat": run_openai_chat,
    "openai_responses": run_openai_responses,
    "gemini": run_gemini,
    "ollama": run_ollama,
}


def run_case(case_id: str, base_url: str, history: dict) -> dict:
    case = BY_ID[case_id]
    return RUNNERS[case["family"]](case, base_url, history)


# ------------------------------------------------------------------ MCP


async def _mcp(url: str) -> dict:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            calls = []
            for c in MCP_CALLS:
                r = await session.call_tool(MCP_TOOL, c["arguments"])
                calls.append(
                    {
                        "is_error": r.is_error,
                        "text": "".join(getattr(b, "text", "") for b in r.content),
                    }
                )
    return {
        "server": init.server_info.name,
        "tools": [t.name for t in tools.tools],
        "calls": calls,
    }


def run_mcp(url: str) -> dict:
    return asyncio.run(asyncio.wait_for(_mcp(url), timeout=60))
