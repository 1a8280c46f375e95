#!/usr/bin/env bash
# Exports end to end, with the tools that import them.
#
# Starts a fake LLM upstream (scripts/e2e/exports-upstream.js) and llmspy in
# front of it, sends traffic through llmspy with curl (Anthropic and OpenAI
# shaped calls carrying API keys, a plain GET with a `key=` query), exports
# it in all five formats with `llmspy export` from the running llmspy, and
# hands the files to scripts/validate-exports/run.sh: har-validator,
# openapi-spec-validator, and newman and bru, which replay every exported
# request against the upstream, where they must all arrive. Then checks
# that no key leaked into an export, that an offline export from the
# --save file matches the online one, and that native JSON round-trips
# (export → load → export gives the same exchanges as --save wrote).
#
# Loopback only, bounded in time, cleans up its processes. Quiet on
# success (one line); on failure says which step and shows the logs.
# Environment: LLMSPY_BIN (use this binary instead of building the release
# one the other scripts share), EXPORTS_E2E_KEEP=1 (keep the work directory).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/scripts/e2e"
start=$SECONDS
secret="sk-e2e-secret-7731"
query_secret="qk-e2e-secret-5519"

E2E_NAME=exports.sh
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
e2e_workdir "" "${EXPORTS_E2E_KEEP:-}"

# Nothing here may go through a proxy the caller happens to have set, and
# llmspy must not read the user's settings.
e2e_no_proxy
unset LLMSPY_LISTEN LLMSPY_CA_DIR LLMSPY_CONFIG
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"

# 1. The binary.
bin="$(e2e_binary "$work/build.log")"

# 2. The fake upstream, on a port it picks.
log="$work/requests.log"
forms="$work/forms.log"
: >"$log"
UPSTREAM_LOG="$log" UPSTREAM_FORMS="$forms" node "$here/exports-upstream.js" 0 >"$work/upstream.out" 2>&1 &
pids+=($!)
e2e_wait_for 100 grep -q '^listening ' "$work/upstream.out" || die "the upstream did not start" "$work/upstream.out"
upstream="http://$(sed -n 's/^listening //p' "$work/upstream.out")"

# 3. llmspy on a port it picks, saving every exchange (with its secrets:
# step 9 compares the file with an unredacted export).
e2e_llmspy "$work/llmspy.out" "$work/llmspy.err" \
  --listen 127.0.0.1:0 --ca-dir "$work/ca" --save "$work/cap.jsonl" --save-secrets
proxy="http://$llmspy_addr"

# 4. Traffic through llmspy.
send() {
  curl -sS --fail --max-time 10 -x "$proxy" -o /dev/null "$@" >>"$work/curl.log" 2>&1 ||
    die "curl $* through llmspy" "$work/curl.log" "$work/llmspy.err"
}
turn1='{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Name a colour."}]}'
turn2='{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Name a colour."},{"role":"assistant","content":"Answer to turn 1."},{"role":"user","content":"Another."}]}'
chat='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'
json=(-H 'content-type: application/json')
send "$upstream/v1/models"
send "${json[@]}" -H "x-api-key: $secret" -H 'anthropic-version: 2023-06-01' -d "$turn1" "$upstream/v1/messages"
send "${json[@]}" -H "x-api-key: $secret" -H 'anthropic-version: 2023-06-01' -d "$turn2" "$upstream/v1/messages"
send "${json[@]}" -H "authorization: Bearer $secret" -d "$chat" "$upstream/v1/chat/completions"
send "$upstream/v1/search?q=llm&key=$query_secret"
# A file upload: its CRLF framing must survive every export that replays it.
printf 'line one\r\nline two\n' >"$work/notes.txt"
send -H "authorization: Bearer $secret" -F purpose=assistants -F "file=@$work/notes.txt" "$upstream/v1/files"
sent=6
saved() { [ "$(wc -l <"$work/cap.jsonl" 2>/dev/null || echo 0)" -ge "$sent" ]; }
e2e_wait_for 100 saved || die "llmspy did not save $sent finished exchanges" "$work/llmspy.err"

# 5. Every format from the running llmspy, plus recorded expectations as HAR.
out="$work/exports"
mkdir -p "$out"
export_to() {
  local file=$1
  shift
  "$bin" export --server "$proxy" --quiet -o "$out/$file" "$@" >>"$work/export.log" 2>&1 ||
    die "llmspy export $* (exit $?)" "$work/export.log"
}
export_to traffic.har --format har
export_to traffic.openapi.json --format openapi
export_to traffic.postman.json --format postman
export_to traffic.bruno.zip --format bruno
export_to traffic.json --format json
export_to recorded.har --format har --type RECORDED_EXPECTATIONS
llm="$(jq '.log.entries | length' "$out/traffic.har")"
[ "$llm" -eq "$sent" ] || die "the HAR holds $llm entries, not $sent"

# 6. No key in any export (redaction is on by default).
if grep -rl -e "$secret" -e "$query_secret" "$out" >"$work/leaks" ||
  unzip -p "$out/traffic.bruno.zip" | grep -q -e "$secret" -e "$query_secret"; then
  die "a secret is in an export: $(tr '\n' ' ' <"$work/leaks")"
fi

# 7. The importers; newman and bru replay each request to the upstream.
before="$(wc -l <"$log")"
timeout 600 "$root/scripts/validate-exports/run.sh" "$out" >"$work/validate.log" 2>&1 ||
  die "scripts/validate-exports/run.sh" "$work/validate.log"
items="$(jq '[.. | objects | select(has("request"))] | length' "$out/traffic.postman.json")"
arrived=$(($(wc -l <"$log") - before))
[ "$arrived" -eq $((2 * items)) ] ||
  die "the upstream saw $arrived replayed requests; newman and bru should have sent $((2 * items))" "$log"
# The upload, as curl sent it and as newman and bru replayed it: the same
# form three times over, file and all.
[ "$(wc -l <"$forms")" -eq 3 ] && [ "$(sort -u "$forms" | wc -l)" -eq 1 ] &&
  grep -q '"purpose":"assistants"' "$forms" ||
  die "the replayed upload is not the form curl sent" "$forms"

# 8. Offline from the --save file: the same HAR entries as online.
"$bin" export --from "$work/cap.jsonl" --format har --quiet -o "$work/offline.har" 2>"$work/offline.log" ||
  die "llmspy export --from cap.jsonl" "$work/offline.log"
entries() { jq -S '[.log.entries[] | {method: .request.method, url: .request.url, status: .response.status, body: .response.content.text}]' "$1"; }
diff <(entries "$out/traffic.har") <(entries "$work/offline.har") >"$work/offline.diff" ||
  die "offline and online HAR exports differ" "$work/offline.diff"

# 9. Native JSON round trip: what --save wrote = the online export = an
# export of that export, loaded back by llmspy.
"$bin" export --server "$proxy" --no-redact --quiet -o "$work/native.json" 2>"$work/native.log" ||
  die "llmspy export --format json --no-redact" "$work/native.log"
"$bin" export --from "$work/native.json" --no-redact --quiet -o "$work/again.json" 2>>"$work/native.log" ||
  die "llmspy export --from native.json" "$work/native.log"
# assistantText and llm are derived from the exchange, not part of it; a
# --save line also says which version of the line format it is.
exchanges() { jq -S '[.[] | del(.assistantText, .llm)]' "$1"; }
diff <(jq -S -s '[.[] | del(.llmspyFormat)]' "$work/cap.jsonl") <(exchanges "$work/native.json") >"$work/native.diff" ||
  die "the native export differs from what --save wrote" "$work/native.diff"
diff <(exchanges "$work/native.json") <(exchanges "$work/again.json") >"$work/again.diff" ||
  die "native JSON did not survive export → load → export" "$work/again.diff"
[ "$(jq 'length' "$work/again.json")" -eq "$sent" ] || die "the round trip lost exchanges"

# 10. A clean stop.
kill -TERM "$llmspy_pid"
wait "$llmspy_pid" || die "llmspy exited with $? on SIGTERM" "$work/llmspy.err"

echo "exports.sh: $sent exchanges exported as JSON, HAR, OpenAPI, Postman, Bruno; $(tail -n 1 "$work/validate.log" | sed 's/^exports valid: //'); $arrived replayed requests arrived; round trip ok ($((SECONDS - start)) s)"
