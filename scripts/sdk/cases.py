"""The scenarios of the real-SDK end-to-end test, shared by the fake upstream
(which answers them) and the checker (which runs the SDKs and reads what
llmspy made of each exchange).

A case is found again on both sides by the marker `[case:<id>]` that the
client puts in its last user message.

Each case states, in the provider's own wire terms, what the fake upstream
sends (`text` pieces, a `tool` call, `thinking`, `usage`, `stop`), and, in
llmspy's normalised terms, what llmspy must extract (`expect`): token counts
follow llmspy's convention (input includes cache reads and writes, output
includes reasoning), the stop reason is the provider's own word.
"""

from __future__ import annotations

import re

MARKER = re.compile(rb"\[case:([a-z0-9_-]+)\]")


def marker(case_id: str) -> str:
    return f"[case:{case_id}]"


def usage(inp, out, cache_read=0, cache_write=0, reasoning=0):
    return {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "reasoning_tokens": reasoning,
    }


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
}

CASES: list[dict] = [
    # ---------------------------------------------------------------- Anthropic
    {
        "id": "anthropic-text",
        "family": "anthropic",
        "stream": False,
        "model": "claude-sonnet-4-5",
        "answered": "claude-sonnet-4-5-20250929",
        "text": ["The capital of France ", "is Paris."],
        "usage": {
            "input_tokens": 21,
            "cache_creation_input_tokens": 1500,
            "cache_read_input_tokens": 3000,
            "output_tokens": 12,
        },
        "stop": "end_turn",
        "gzip": True,
        "expect": {"usage": usage(4521, 12, cache_read=3000, cache_write=1500)},
    },
    {
        "id": "anthropic-tool-stream",
        "family": "anthropic",
        "stream": True,
        "model": "claude-sonnet-4-5",
        "answered": "claude-sonnet-4-5-20250929",
        "text": ["Let me check ", "the weather."],
        "tool": {
            "id": "toolu_01E2eWeather",
            "name": "get_weather",
            "arguments": {"city": "Paris", "unit": "celsius"},
        },
        "usage": {
            "input_tokens": 410,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 2048,
            "output_tokens": 58,
        },
        "stop": "tool_use",
        "expect": {"usage": usage(2458, 58, cache_read=2048)},
    },
    {
        # The second turn of the conversation above: same messages plus the
        # assistant's tool call and the tool's result.
        "id": "anthropic-tool-result",
        "family": "anthropic",
        "stream": False,
        "model": "claude-sonnet-4-5",
        "answered": "claude-sonnet-4-5-20250929",
        "continues": "anthropic-tool-stream",
        "text": ["It is 18 degrees and sunny in Paris."],
        "usage": {"input_tokens": 530, "cache_read_input_tokens": 2048, "output_tokens": 15},
        "stop": "end_turn",
        "expect": {"usage": usage(2578, 15, cache_read=2048)},
    },
    {
        "id": "anthropic-thinking-stream",
        "family": "anthropic",
        "stream": True,
        "model": "claude-sonnet-4-5",
        "answered": "claude-sonnet-4-5-20250929",
        "thinking": ["The user wants a number. ", "Seven is prime."],
        "text": ["Seven."],
        # Anthropic reports thinking inside output_tokens; there is no
        # separate reasoning count to extract.
        "usage": {"input_tokens": 40, "output_tokens": 90},
        "stop": "end_turn",
        "expect": {"usage": usage(40, 90)},
    },
    {
        "id": "anthropic-tool",
        "family": "anthropic",
        "stream": False,
        "model": "claude-haiku-4-5",
        "answered": "claude-haiku-4-5-20251001",
        "text": [],
        "tool": {
            "id": "toolu_01E2eLookup",
            "name": "get_weather",
            "arguments": {"city": "Oslo"},
        },
        "usage": {"input_tokens": 350, "output_tokens": 40},
        "stop": "tool_use",
        "expect": {"usage": usage(350, 40)},
    },
    {
        "id": "anthropic-overloaded",
        "family": "anthropic",
        "stream": False,
        "model": "claude-sonnet-4-5",
        "http_error": {
            "status": 529,
            "type": "overloaded_error",
            "message": "Overloaded",
        },
        "expect": {"usage": None, "error": {"status": 529, "kind": "overloaded_error"}},
    },
    # ------------------------------------------------------ OpenAI Chat Completions
    {
        "id": "openai-chat-text",
        "family": "openai_chat",
        "stream": False,
        "model": "gpt-4o-mini",
        "answered": "gpt-4o-mini-2024-07-18",
        "text": ["Bonjour! ", "How can I help?"],
        "usage": {
            "prompt_tokens": 2006,
            "completion_tokens": 300,
            "total_tokens": 2306,
            "prompt_tokens_details": {"cached_tokens": 1920},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
        "stop": "stop",
        "gzip": True,
        "expect": {"usage": usage(2006, 300, cache_read=1920)},
    },
    {
        "id": "openai-chat-stream",
        "family": "openai_chat",
        "stream": True,
        "model": "gpt-4o-mini",
        "answered": "gpt-4o-mini-2024-07-18",
        "text": ["One, ", "two, ", "three."],
        "usage": {
            "prompt_tokens": 25,
            "completion_tokens": 7,
            "total_tokens": 32,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
        "stop": "stop",
        "expect": {"usage": usage(25, 7)},
    },
    {
        "id": "openai-chat-tool-stream",
        "family": "openai_chat",
        "stream": True,
        "model": "gpt-4.1-mini",
        "answered": "gpt-4.1-mini-2025-04-14",
        "text": [],
        "tool": {
            "id": "call_e2eWeather01",
            "name": "get_weather",
            "arguments": {"city": "Lisbon", "unit": "celsius"},
        },
        "usage": {
            "prompt_tokens": 88,
            "completion_tokens": 19,
            "total_tokens": 107,
            "prompt_tokens_details": {"cached_tokens": 64},
        },
        "stop": "tool_calls",
        "expect": {"usage": usage(88, 19, cache_read=64)},
    },
    {
        "id": "openai-chat-tool-result",
        "family": "openai_chat",
        "stream": False,
        "model": "gpt-4.1-mini",
        "answered": "gpt-4.1-mini-2025-04-14",
        "continues": "openai-chat-tool-stream",
        "text": ["Lisbon: 22 degrees, clear."],
        "usage": {"prompt_tokens": 120, "completion_tokens": 9, "total_tokens": 129},
        "stop": "stop",
        "expect": {"usage": usage(120, 9)},
    },
    {
        "id": "openai-chat-tool",
        "family": "openai_chat",
        "stream": False,
        "model": "gpt-4o-mini",
        "answered": "gpt-4o-mini-2024-07-18",
        "text": [],
        "tool": {
            "id": "call_e2eWeather02",
            "name": "get_weather",
            "arguments": {"city": "Rome"},
        },
        "usage": {"prompt_tokens": 70, "completion_tokens": 15, "total_tokens": 85},
        "stop": "tool_calls",
        "expect": {"usage": usage(70, 15)},
    },
    # ----------------------------------------------------------- OpenAI Responses
    {
        "id": "openai-responses-text",
        "family": "openai_responses",
        "stream": False,
        "model": "gpt-5-mini",
        "answered": "gpt-5-mini-2025-08-07",
        "text": ["A haiku: ", "quiet proxy hums."],
        "usage": {
            "input_tokens": 1200,
            "input_tokens_details": {"cached_tokens": 1024},
            "output_tokens": 400,
            "output_tokens_details": {"reasoning_tokens": 320},
            "total_tokens": 1600,
        },
        "stop": "completed",
        "expect": {"usage": usage(1200, 400, cache_read=1024, reasoning=320)},
    },
    {
        "id": "openai-responses-stream",
        "family": "openai_responses",
        "stream": True,
        "model": "gpt-5-mini",
        "answered": "gpt-5-mini-2025-08-07",
        "text": ["Streams ", "arrive ", "in pieces."],
        "usage": {
            "input_tokens": 60,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 150,
            "output_tokens_details": {"reasoning_tokens": 128},
            "total_tokens": 210,
        },
        "stop": "completed",
        "expect": {"usage": usage(60, 150, reasoning=128)},
    },
    {
        "id": "openai-responses-tool-stream",
        "family": "openai_responses",
        "stream": True,
        "model": "gpt-5-mini",
        "answered": "gpt-5-mini-2025-08-07",
        "text": [],
        "tool": {
            "id": "call_e2eWeather03",
            "name": "get_weather",
            "arguments": {"city": "Tokyo"},
        },
        "usage": {
            "input_tokens": 90,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 30,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 120,
        },
        "stop": "completed",
        "expect": {"usage": usage(90, 30)},
    },
    # --------------------------------------------------------------------- Gemini
    {
        "id": "gemini-text",
        "family": "gemini",
        "stream": False,
        "model": "gemini-2.5-flash",
        "answered": "gemini-2.5-flash",
        "text": ["Gemini says ", "hello."],
        "usage": {
            "promptTokenCount": 1200,
            "cachedContentTokenCount": 1000,
            "candidatesTokenCount": 40,
            "thoughtsTokenCount": 160,
            "totalTokenCount": 1400,
        },
        "stop": "STOP",
        "gzip": True,
        "expect": {"usage": usage(1200, 200, cache_read=1000, reasoning=160)},
    },
    {
        "id": "gemini-stream",
        "family": "gemini",
        "stream": True,
        "model": "gemini-2.5-flash",
        "answered": "gemini-2.5-flash",
        "text": ["Counting: ", "one, two, ", "three."],
        "usage": {
            "promptTokenCount": 30,
            "candidatesTokenCount": 9,
            "thoughtsTokenCount": 20,
            "totalTokenCount": 59,
        },
        "stop": "STOP",
        "expect": {"usage": usage(30, 29, reasoning=20)},
    },
    {
        "id": "gemini-tool",
        "family": "gemini",
        "stream": False,
        "model": "gemini-2.5-flash",
        "answered": "gemini-2.5-flash",
        "text": [],
        "tool": {"id": None, "name": "get_weather", "arguments": {"city": "Berlin"}},
        "usage": {"promptTokenCount": 55, "candidatesTokenCount": 12, "totalTokenCount": 67},
        "stop": "STOP",
        "expect": {"usage": usage(55, 12)},
    },
    # --------------------------------------------------------------------- Ollama
    {
        "id": "ollama-chat",
        "family": "ollama",
        "stream": False,
        "model": "llama3.2",
        "answered": "llama3.2",
        "text": ["Llamas ", "are camelids."],
        "usage": {"prompt_eval_count": 26, "eval_count": 11},
        "stop": "stop",
        "expect": {"usage": usage(26, 11)},
    },
    {
        "id": "ollama-stream",
        "family": "ollama",
        "stream": True,
        "model": "llama3.2",
        "answered": "llama3.2",
        "text": ["Streaming ", "from ", "ollama."],
        "usage": {"prompt_eval_count": 31, "eval_count": 6},
        "stop": "stop",
        "expect": {"usage": usage(31, 6)},
    },
    {
        "id": "ollama-tool",
        "family": "ollama",
        "stream": False,
        "model": "llama3.2",
        "answered": "llama3.2",
        "text": [],
        "tool": {"id": None, "name": "get_weather", "arguments": {"city": "Madrid"}},
        "usage": {"prompt_eval_count": 150, "eval_count": 20},
        "stop": "stop",
        "expect": {"usage": usage(150, 20)},
    },
    # ---------------------------------------------------------------- Clouds
    {
        # boto3's bedrock-runtime client, SigV4-signed with fake keys.
        "id": "bedrock-invoke-stream",
        "family": "bedrock",
        "client": "boto3",
        "stream": True,
        "model": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "price_as": "claude-sonnet-4-5",
        "answered": "claude-sonnet-4-5-20250929",
        "text": ["Bedrock streams ", "in binary frames."],
        "usage": {"input_tokens": 44, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0, "output_tokens": 12},
        "stop": "end_turn",
        "expect": {"usage": usage(44, 12)},
    },
    {
        "id": "bedrock-converse-stream",
        "family": "bedrock_converse",
        "client": "boto3",
        "stream": True,
        "model": "us.amazon.nova-pro-v1:0",
        "price_as": "amazon.nova-pro",
        "text": ["Converse ", "streams too."],
        "tool": {"id": "tooluse_e2eWeather", "name": "get_weather", "arguments": {"city": "Porto"}},
        "usage": {"inputTokens": 70, "outputTokens": 18, "totalTokens": 88},
        "stop": "tool_use",
        "expect": {"usage": usage(70, 18)},
    },
    {
        # The anthropic package's AnthropicBedrock client.
        "id": "bedrock-anthropic-sdk",
        "family": "bedrock",
        "client": "anthropic_bedrock",
        "stream": True,
        "model": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "price_as": "claude-haiku-4-5",
        "answered": "claude-haiku-4-5-20251001",
        "thinking": ["Short question, ", "short answer."],
        "text": ["Yes."],
        "usage": {"input_tokens": 30, "output_tokens": 25},
        "stop": "end_turn",
        "expect": {"usage": usage(30, 25)},
    },
    {
        # AnthropicVertex with an access token: no Google credentials needed.
        "id": "vertex-anthropic-stream",
        "family": "vertex_anthropic",
        "stream": True,
        "model": "claude-sonnet-4-5@20250929",
        "price_as": "claude-sonnet-4-5",
        "answered": "claude-sonnet-4-5-20250929",
        "text": ["Vertex ", "says hi."],
        "usage": {"input_tokens": 52, "cache_read_input_tokens": 1024, "output_tokens": 9},
        "stop": "end_turn",
        "expect": {"usage": usage(1076, 9, cache_read=1024)},
    },
    {
        "id": "azure-chat",
        "family": "azure_chat",
        "stream": False,
        "model": "gpt-4o-mini",
        "answered": "gpt-4o-mini-2024-07-18",
        "text": ["Azure ", "answers."],
        "usage": {"prompt_tokens": 40, "completion_tokens": 6, "total_tokens": 46},
        "stop": "stop",
        "expect": {"usage": usage(40, 6)},
    },
]

BY_ID = {c["id"]: c for c in CASES}

# llmspy's names for each family of API when the host is not a known one
# (the fake upstream is https://localhost:PORT).
KIND = {
    "anthropic": "anthropic",
    "openai_chat": "openai_chat",
    "openai_responses": "openai_responses",
    "gemini": "gemini",
    "ollama": "ollama",
    "bedrock": "anthropic",
    "bedrock_converse": "bedrock_converse",
    "vertex_anthropic": "anthropic",
    "azure_chat": "openai_chat",
}
PROVIDER = {
    "anthropic": "anthropic-compatible",
    "openai_chat": "openai-compatible",
    "openai_responses": "openai-compatible",
    "gemini": "google",
    "ollama": "ollama",
    # Known by their paths, whatever the host.
    "bedrock": "bedrock",
    "bedrock_converse": "bedrock",
    "vertex_anthropic": "vertex",
    "azure_chat": "azure",
}

# The MCP server's one tool, and the calls the client makes.
MCP_TOOL = "city_population"
MCP_POPULATIONS = {"Paris": 2102650, "Lyon": 522250}
MCP_CALLS = [
    {"arguments": {"city": "Paris"}, "is_error": False, "text": "2102650"},
    {"arguments": {"city": "Atlantis"}, "is_error": True, "text": "unknown city: Atlantis"},
]
