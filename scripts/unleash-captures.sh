#!/usr/bin/env bash
# Records the token-endpoint behaviour of one real Unleash server as capture
# files (testdata/captures-<server>/NNN-name.txt: a comment, the curl command,
# a blank line, the raw HTTP response) plus index.tsv (case, description,
# request, status, body). The same cases, with the same numbers, run on every
# server of scripts/unleash.sh; numbers below 400 are the cases of the same
# name in testdata/captures-8.2.0, 4xx are the matrix cases, 5xx only run on
# 8.2.0-secure.
#
# Usage (on a fresh database, as the lists are captured whole):
#   RESET_DB=1 UNLEASH_SERVER=6.10.1 scripts/unleash.sh start >/dev/null
#   eval "$(UNLEASH_SERVER=6.10.1 scripts/unleash.sh status)"
#   scripts/unleash-captures.sh testdata/captures-6.10.1/matrix
#
# It takes about 90 s (one wait of 70 s for the server's token cache) and
# deletes the tokens it creates. Run it again with a second argument `late`
# ten minutes or more later to add case 498 (edge/validate of the deleted
# tokens once more), and with `limit` on a server started with
# UNLEASH_API_TOKENS_LIMIT=3 on an empty database to add case 950.
set -euo pipefail

OUT=${1:?usage: unleash-captures.sh OUTDIR}
: "${UNLEASH_URL:?UNLEASH_URL is not set (eval the output of scripts/unleash.sh start)}"
: "${UNLEASH_API_TOKEN:?UNLEASH_API_TOKEN is not set}"
: "${UNLEASH_SERVER:?UNLEASH_SERVER is not set}"
CACHE_WAIT=${CACHE_WAIT:-70}

PHASE=${2:-main}
mkdir -p "$OUT"
if [ "$PHASE" = main ]; then
  rm -f "$OUT"/[0-9][0-9][0-9]-*.txt "$OUT/index.tsv"
fi

U=$UNLEASH_URL
AUTH=(-H "Authorization: $UNLEASH_API_TOKEN")
JSON=(-H "Content-Type: application/json")
STATUS='' BODY=''

# cap NAME DESCRIPTION METHOD PATH [curl arguments...]: one exchange.
cap() {
  local name=$1 desc=$2 method=$3 path=$4
  shift 4
  local args=(-sS -i -X "$method" "$U$path" "$@")
  local f="$OUT/$name.txt"
  {
    printf '# %s\n' "$desc"
    printf '$ curl'
    printf ' %q' "${args[@]}"
    printf '\n\n'
  } > "$f"
  curl "${args[@]}" >> "$f" 2>&1 || true
  STATUS=$(python3 - "$f" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
i = d.find(b'\nHTTP/1.1 ')
print(d[i+1:].split(b' ')[1].decode() if i >= 0 else 'none')
PY
)
  BODY=$(python3 - "$f" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
i = d.find(b'\nHTTP/1.1 ')
if i < 0:
    # no HTTP answer: show what curl said
    print(d.split(b'\n\n', 1)[1].decode().strip().replace('\n', ' '))
else:
    j = d.find(b'\r\n\r\n', i)
    print(d[j+4:].decode(errors='replace').strip().replace('\n', ' ').replace('\t', ' '))
PY
)
  printf '%s\t%s\t%s %s\t%s\t%s\n' "$name" "$desc" "$method" "$path" "$STATUS" "$BODY" >> "$OUT/index.tsv"
  printf '%s %s %s %s\n' "$name" "$method" "$path" "$STATUS" >&2
}

# create NAME DESCRIPTION BODY: POST /api/admin/api-tokens
create() { cap "$1" "$2" POST /api/admin/api-tokens "${AUTH[@]}" "${JSON[@]}" -d "$3"; }
# pcreate NAME DESCRIPTION PROJECT BODY [curl arguments...]: POST in a project
pcreate() {
  local name=$1 desc=$2 proj=$3 body=$4
  shift 4
  cap "$name" "$desc" POST "/api/admin/projects/$proj/api-tokens" "${AUTH[@]}" "${JSON[@]}" -d "$body" "$@"
}
# field NAME: a field of the last body, empty when absent
field() { jq -r --arg f "$1" '.[$f] // empty' <<<"$BODY" 2>/dev/null || true; }
# secret of the last 201, else empty
created() { if [ "$STATUS" = 201 ]; then field secret; fi; }
# listed NAME: the value that GET /api/admin/api-tokens lists as `secret` for
# the token named NAME (the first one)
listed() {
  curl -sS "${AUTH[@]}" "$U/api/admin/api-tokens/$(jq -rn --arg s "$1" '$s|@uri')" \
    | jq -r '.tokens[0].secret // empty'
}
enc() { jq -rn --arg s "$1" '$s|@uri'; }
# jlist A B ...: a JSON array of the arguments that are not empty
jlist() { jq -cn '$ARGS.positional | map(select(. != ""))' --args "$@"; }
validate() { # NAME DESCRIPTION JSON-ARRAY [curl arguments...]
  local name=$1 desc=$2 toks=$3
  shift 3
  cap "$name" "$desc" POST /edge/validate "${JSON[@]}" -d "{\"tokens\":$toks}" "$@"
}
cleanup=()
# forget SECRET: delete at the end (ignores failures)
forget() { [ -n "$1" ] && cleanup+=("$1"); return 0; }

secure=no
[[ $UNLEASH_SERVER == *-secure ]] && secure=yes

# On a server started with UNLEASH_API_TOKENS_LIMIT=3 (and nothing but the
# admin token): two more tokens, then the one over the limit.
if [ "$PHASE" = limit ]; then
  for n in l1 l2; do
    curl -sS -o /dev/null "${AUTH[@]}" "${JSON[@]}" -X POST "$U/api/admin/api-tokens" -d "{\"tokenName\":\"$n\",\"type\":\"client\"}"
  done
  create 950-token-limit-exceeded "token limit: server started with UNLEASH_API_TOKENS_LIMIT=3 (admin + l1 + l2 = 3), then one more create" '{"tokenName":"l3","type":"client"}'
  if [ "$STATUS" = 201 ]; then
    create 951-token-limit-one-more "the create after that (l4)" '{"tokenName":"l4","type":"client"}'
  fi
  exit 0
fi

# The second phase, run on the same server a while (10 min or more) after the
# first: the tokens of 460 and 491, all deleted by then, once more.
if [ "$PHASE" = late ]; then
  body() { awk 'f{print} /^\r?$/ && h{f=1} /^HTTP\/1.1/{h=1}' "$1"; }
  deleted=$(jq -cn --argjson a "$(body "$OUT/460-edge-validate-live.txt" | jq -c '[.tokens[].token]')" \
                   --argjson b "$(body "$OUT/491-edge-validate-before-delete.txt" | jq -c '[.tokens[].token]')" '$a+$b')
  validate 498-edge-validate-much-later "the tokens of 460 and 491 (all deleted) once more, $(( ($(date +%s) - $(date -r "$OUT/499-list-at-end.txt" +%s)) / 60 )) min after the first phase ended" "$deleted"
  exit 0
fi

# ------------------------------------------------------------ basics
cap 000-health "health" GET /health
cap 013-list-plain "list on a fresh database: how the INIT_ADMIN_API_TOKENS token is listed" GET /api/admin/api-tokens "${AUTH[@]}"
cap 450-ui-config "ui-config with the admin key: version, resourceLimits, flags" GET /api/admin/ui-config "${AUTH[@]}"

# ------------------------------------------------------------ create, all projects
create 100-create-client-min "type=client, only tokenName+type (default environment?)" '{"tokenName":"t-client-min","type":"client"}'
CLIENT=$(created); forget "$CLIENT"
create 101-create-backend-full "type=backend, environment=development, expiresAt, projects=[default]" '{"tokenName":"t-backend-full","type":"backend","environment":"development","projects":["default"],"expiresAt":"2030-01-02T03:04:05.000Z"}'
BACKEND=$(created); forget "$BACKEND"
create 102-create-frontend-prod "type=frontend, environment=production" '{"tokenName":"t-frontend-prod","type":"frontend","environment":"production"}'
FRONTEND=$(created); forget "$FRONTEND"
create 103-create-backend-upper "type=BACKEND (upper case), no environment" '{"tokenName":"t-backend-upper","type":"BACKEND"}'
forget "$(created)"
create 104-create-frontend-mixed "type=Frontend (mixed case), no environment" '{"tokenName":"t-frontend-mixed","type":"Frontend"}'
forget "$(created)"
create 105-create-admin "type=admin" '{"tokenName":"t-admin","type":"admin"}'
ADMIN=$(created)
create 106-create-admin-upper "type=ADMIN" '{"tokenName":"t-admin-upper","type":"ADMIN"}'
ADMIN2=$(created)
create 107-create-project-singular "type=client, project=\"default\" (the singular field)" '{"tokenName":"t-project-singular","type":"client","project":"default"}'
forget "$(created)"
create 108-create-projects-array "type=client, projects=[default]" '{"tokenName":"t-projects-array","type":"client","projects":["default"]}'
forget "$(created)"
create 110-create-projects-star "type=client, projects=[\"*\"] explicit" '{"tokenName":"t-projects-star","type":"client","projects":["*"]}'
STAR=$(created); forget "$STAR"
create 121-create-multi-project "type=client, projects=[default,second] (second seeded via SQL)" '{"tokenName":"t-multi","type":"client","projects":["default","second"]}'
MULTI=$(created); forget "$MULTI"
create 122-create-project-second "type=client, projects=[second]" '{"tokenName":"t-second","type":"client","projects":["second"]}'
SECOND=$(created); forget "$SECOND"
create 155-create-unknown-env "type=client, environment=nope" '{"tokenName":"t-bad-env","type":"client","environment":"nope"}'
forget "$(created)"
create 156-create-unknown-project "type=client, projects=[nope]" '{"tokenName":"t-bad-proj","type":"client","projects":["nope"]}'
forget "$(created)"
create 400-create-star-and-default "type=client, projects=[\"*\",\"default\"]" '{"tokenName":"t-star-default","type":"client","projects":["*","default"]}'
forget "$(created)"
create 401-create-client-dev-expires "type=client, environment=development, expiresAt" '{"tokenName":"t-client-dev-exp","type":"client","environment":"development","expiresAt":"2030-01-02T03:04:05.000Z"}'
forget "$(created)"
create 402-create-backend-min "type=backend, only tokenName+type" '{"tokenName":"t-backend-min","type":"backend"}'
BACKEND_MIN=$(created); forget "$BACKEND_MIN"
create 403-create-env-default "type=client, environment=default (the 5.x/6.x default environment)" '{"tokenName":"t-env-default","type":"client","environment":"default"}'
forget "$(created)"
create 404-create-expired "type=client, environment=development, expiresAt in the past" '{"tokenName":"t-expired","type":"client","environment":"development","expiresAt":"2020-01-01T00:00:00.000Z"}'
EXPIRED=$(created); forget "$EXPIRED"
create 405-create-client-production "type=client, environment=production" '{"tokenName":"t-client-prod","type":"client","environment":"production"}'
PROD=$(created); forget "$PROD"
cap 406-environments "the environments and whether each is enabled" GET /api/admin/environments "${AUTH[@]}"

# ------------------------------------------------------------ create in a project
pcreate 202-proj-create-client-min "project default, type=client, body without projects" default '{"tokenName":"p-client-min","type":"client"}'
PCLIENT=$(created); forget "$PCLIENT"
pcreate 410-proj-create-projects-default "project default, type=client, projects=[default] in the body too" default '{"tokenName":"p-projects-default","type":"client","projects":["default"]}'
PDEFAULT=$(created); forget "$PDEFAULT"
# 5.x and 6.x answer 202 with a 500: the project token for the cases below is then this one.
PCLIENT=${PCLIENT:-$PDEFAULT}
pcreate 411-proj-create-projects-second "project default, type=client, projects=[second] in the body (disagrees with the path; --max-time 10)" default '{"tokenName":"p-projects-second","type":"client","projects":["second"]}' --max-time 10
forget "$(created)"
cap 412-health-after-disagree "health right after the disagreeing project create" GET /health --max-time 5
pcreate 413-proj-create-backend "project default, type=backend, environment=production, projects=[default]" default '{"tokenName":"p-backend","type":"backend","environment":"production","projects":["default"]}'
forget "$(created)"
pcreate 414-proj-create-second "project second, type=client, projects=[second]" second '{"tokenName":"p-second","type":"client","projects":["second"]}'
PSECOND=$(created); forget "$PSECOND"
pcreate 415-proj-create-unknown "project nope, type=client, projects=[nope]" nope '{"tokenName":"p-nope","type":"client","projects":["nope"]}'
forget "$(created)"

# ------------------------------------------------------------ lists
cap 300-list-all "GET all tokens" GET /api/admin/api-tokens "${AUTH[@]}"
cap 240-proj-list "GET project default tokens" GET /api/admin/projects/default/api-tokens "${AUTH[@]}"
cap 353-proj-list-second "GET project second tokens" GET /api/admin/projects/second/api-tokens "${AUTH[@]}"
cap 301-get-by-name "GET by name t-client-min" GET /api/admin/api-tokens/t-client-min "${AUTH[@]}"
cap 302-get-by-name-missing "GET by unknown name" GET /api/admin/api-tokens/no-such-name "${AUTH[@]}"
cap 303-get-by-name-admin-init "GET by name admin (the INIT_ADMIN_API_TOKENS token)" GET /api/admin/api-tokens/admin "${AUTH[@]}"

# ------------------------------------------------------------ events
cap 440-events-search "event search, newest 5" GET '/api/admin/search/events?limit=5' "${AUTH[@]}"
cap 441-events-search-created "event search, type=IS:api-token-created" GET '/api/admin/search/events?type=IS:api-token-created&limit=3' "${AUTH[@]}"
cap 442-events-legacy "the older event list GET /api/admin/events" GET '/api/admin/events' "${AUTH[@]}"

# ------------------------------------------------------------ edge/validate
validate 460-edge-validate-live "live client, backend (when the server has the type), frontend, in that order, no Authorization" "$(jlist "$CLIENT" "$BACKEND_MIN" "$FRONTEND")"
validate 461-edge-validate-with-auth "the same with the admin key as Authorization" "$(jlist "$CLIENT" "$BACKEND_MIN" "$FRONTEND")" "${AUTH[@]}"
validate 462-edge-validate-order "frontend, backend, client: is the order kept?" "$(jlist "$FRONTEND" "$BACKEND_MIN" "$CLIENT")"
validate 463-edge-validate-garbage "garbage strings" '["nope","*:development.0000","",":"]'
validate 464-edge-validate-admin "the admin key" "[\"$UNLEASH_API_TOKEN\"]"
validate 465-edge-validate-expired "a token created with expiresAt in the past" "$(jlist "$EXPIRED")"
validate 466-edge-validate-empty "an empty list" '[]'
validate 467-edge-validate-one-of-three "garbage, one live, garbage" "[\"*:development.deadbeef\",\"$CLIENT\",\"x\"]"
validate 468-edge-validate-multi "tokens with projects [second], [default,second] and the project token p-client-min" "$(jlist "$SECOND" "$MULTI" "$PCLIENT")"
cap 469-edge-validate-no-tokens "an object without tokens" POST /edge/validate "${JSON[@]}" -d '{}'
cap 470-edge-validate-not-list "tokens is a string" POST /edge/validate "${JSON[@]}" -d '{"tokens":"x"}'

# ------------------------------------------------------------ update and delete
cap 310-put-expiry "PUT expiresAt on t-client-min by its secret" PUT "/api/admin/api-tokens/$CLIENT" "${AUTH[@]}" "${JSON[@]}" -d '{"expiresAt":"2031-01-01T00:00:00.000Z"}'
cap 317-get-after-put "GET by name after PUT" GET /api/admin/api-tokens/t-client-min "${AUTH[@]}"
cap 313-put-unknown-token "PUT on an unknown secret" PUT '/api/admin/api-tokens/*:development.doesnotexist' "${AUTH[@]}" "${JSON[@]}" -d '{"expiresAt":"2031-01-01T00:00:00.000Z"}'
DEL=${BACKEND:-$PROD}
cap 320-delete "DELETE t-backend-full by its secret (t-client-prod where backend does not exist)" DELETE "/api/admin/api-tokens/$DEL" "${AUTH[@]}"
cap 321-delete-again "DELETE the same again" DELETE "/api/admin/api-tokens/$DEL" "${AUTH[@]}"
cap 322-delete-unknown "DELETE an unknown secret" DELETE '/api/admin/api-tokens/*:development.doesnotexist' "${AUTH[@]}"
cap 340-proj-delete "DELETE p-client-min (p-projects-default on 5.x/6.x) through project default" DELETE "/api/admin/projects/default/api-tokens/$PCLIENT" "${AUTH[@]}"
cap 341-proj-delete-again "the same again" DELETE "/api/admin/projects/default/api-tokens/$PCLIENT" "${AUTH[@]}"
cap 342-proj-delete-unknown-project "DELETE p-second under projectId=nope" DELETE "/api/admin/projects/nope/api-tokens/$PSECOND" "${AUTH[@]}"
cap 343-proj-delete-all-projects-token "DELETE a projects=[*] token (t-projects-star) through project default" DELETE "/api/admin/projects/default/api-tokens/$STAR" "${AUTH[@]}"
cap 345-proj-delete-unknown-token "DELETE an unknown secret through project default" DELETE '/api/admin/projects/default/api-tokens/default:development.nope' "${AUTH[@]}"
cap 430-proj-delete-other-project "DELETE p-second (project second) through project default" DELETE "/api/admin/projects/default/api-tokens/$PSECOND" "${AUTH[@]}"
cap 431-proj-delete-multi "DELETE t-multi ([default,second]) through project default (secret URL-encoded)" DELETE "/api/admin/projects/default/api-tokens/$(enc "$MULTI")" "${AUTH[@]}"
cap 432-events-after-delete "event search, type=IS:api-token-deleted" GET '/api/admin/search/events?type=IS:api-token-deleted&limit=3' "${AUTH[@]}"

# ------------------------------------------------------------ admin tokens (5.x creates them)
for a in "$ADMIN" "$ADMIN2"; do
  if [ -n "$a" ]; then
    cap 480-admin-token-use "use the admin token created by type=admin on the admin API" GET /api/admin/api-tokens/t-admin -H "Authorization: $a"
    cap 481-admin-token-delete "DELETE the created admin token" DELETE "/api/admin/api-tokens/$(enc "$a")" "${AUTH[@]}"
    break
  fi
done
[ -n "$ADMIN2" ] && [ "$ADMIN2" != "$ADMIN" ] && \
  curl -sS -o /dev/null -X DELETE "${AUTH[@]}" "$U/api/admin/api-tokens/$(enc "$ADMIN2")"

# ------------------------------------------------------------ secure storage (8.2.0-secure)
if [ "$secure" = yes ]; then
  create 500-secure-create-client "type=client: the full secret, only in this answer" '{"tokenName":"s-client","type":"client"}'
  S_CLIENT=$(created)
  create 501-secure-create-backend "type=backend" '{"tokenName":"s-backend","type":"backend","environment":"production"}'
  S_BACKEND=$(created)
  create 502-secure-create-project "type=frontend, projects=[default,second]" '{"tokenName":"s-multi","type":"frontend","projects":["default","second"]}'
  S_MULTI=$(created)
  pcreate 503-secure-proj-create "project default, type=client" default '{"tokenName":"s-proj","type":"client"}'
  S_PROJ=$(created)
  pcreate 504-secure-proj-create-2 "project default, type=client (deleted by its full secret)" default '{"tokenName":"s-proj2","type":"client"}'
  S_PROJ2=$(created)
  create 505-secure-create-unknown-project "projects=[nope]" '{"tokenName":"s-nope","type":"client","projects":["nope"]}'
  cap 506-secure-health-after "health after that" GET /health
  cap 507-secure-list-all "list: what secret holds" GET /api/admin/api-tokens "${AUTH[@]}"
  cap 508-secure-get-by-name "GET by name s-backend" GET /api/admin/api-tokens/s-backend "${AUTH[@]}"
  cap 509-secure-proj-list "GET project default tokens" GET /api/admin/projects/default/api-tokens "${AUTH[@]}"
  SEL_CLIENT=$(listed s-client) SEL_BACKEND=$(listed s-backend) SEL_PROJ=$(listed s-proj) SEL_MULTI=$(listed s-multi)
  cap 510-secure-put-by-selector "PUT expiresAt on s-client by the listed value (selector)" PUT "/api/admin/api-tokens/$SEL_CLIENT" "${AUTH[@]}" "${JSON[@]}" -d '{"expiresAt":"2031-01-01T00:00:00.000Z"}'
  cap 511-secure-get-after-put "GET by name s-client after that" GET /api/admin/api-tokens/s-client "${AUTH[@]}"
  cap 512-secure-put-by-secret "PUT expiresAt on s-client by the full secret" PUT "/api/admin/api-tokens/$(enc "$S_CLIENT")" "${AUTH[@]}" "${JSON[@]}" -d '{"expiresAt":"2032-01-01T00:00:00.000Z"}'
  cap 513-secure-get-after-put2 "GET by name s-client after that" GET /api/admin/api-tokens/s-client "${AUTH[@]}"
  cap 514-secure-put-unknown-selector "PUT on an unknown selector" PUT /api/admin/api-tokens/AAAAAAAAAAAAAAAAAAAAAA "${AUTH[@]}" "${JSON[@]}" -d '{"expiresAt":"2031-01-01T00:00:00.000Z"}'
  validate 515-secure-edge-validate-secret "full v2 secrets of s-client, s-backend, s-multi" "[\"$S_CLIENT\",\"$S_BACKEND\",\"$S_MULTI\"]"
  validate 516-secure-edge-validate-selector "bare selectors" "[\"$SEL_CLIENT\",\"$SEL_BACKEND\"]"
  cap 517-secure-events-created "event search, type=IS:api-token-created" GET '/api/admin/search/events?type=IS:api-token-created&limit=3' "${AUTH[@]}"
  cap 518-secure-events-updated "event search, type=IS:api-token-updated" GET '/api/admin/search/events?type=IS:api-token-updated&limit=3' "${AUTH[@]}"
  cap 519-secure-delete-by-selector "DELETE s-backend by the listed value (selector)" DELETE "/api/admin/api-tokens/$SEL_BACKEND" "${AUTH[@]}"
  cap 520-secure-delete-by-secret "DELETE s-client by the full secret" DELETE "/api/admin/api-tokens/$(enc "$S_CLIENT")" "${AUTH[@]}"
  cap 521-secure-delete-unknown-selector "DELETE an unknown selector" DELETE /api/admin/api-tokens/AAAAAAAAAAAAAAAAAAAAAA "${AUTH[@]}"
  cap 522-secure-proj-delete-by-selector "project DELETE s-proj by the listed value" DELETE "/api/admin/projects/default/api-tokens/$SEL_PROJ" "${AUTH[@]}"
  cap 523-secure-proj-delete-by-secret "project DELETE s-proj2 by the full secret" DELETE "/api/admin/projects/default/api-tokens/$(enc "$S_PROJ2")" "${AUTH[@]}"
  cap 524-secure-proj-delete-unknown-selector "project DELETE an unknown selector" DELETE /api/admin/projects/default/api-tokens/AAAAAAAAAAAAAAAAAAAAAA "${AUTH[@]}"
  cap 525-secure-proj-delete-multi-by-selector "project DELETE s-multi ([default,second]) by the listed value" DELETE "/api/admin/projects/default/api-tokens/$SEL_MULTI" "${AUTH[@]}"
  cap 526-secure-events-deleted "event search, type=IS:api-token-deleted" GET '/api/admin/search/events?type=IS:api-token-deleted&limit=5' "${AUTH[@]}"
  cap 527-secure-list-after "list after the deletes" GET /api/admin/api-tokens "${AUTH[@]}"
  cap 528-secure-client-api "the full secret of s-multi on the client API (frontend: /api/frontend)" GET /api/frontend -H "Authorization: $S_MULTI"
  forget "$S_MULTI"
  [ -n "$SEL_MULTI" ] && forget "$SEL_MULTI"
fi

# ------------------------------------------------------------ cache after delete
create 490-create-cache "type=client, to be deleted" '{"tokenName":"t-cache","type":"client","environment":"development"}'
CACHE=$(created)
validate 491-edge-validate-before-delete "t-cache before DELETE" "[\"$CACHE\"]"
cap 492-delete-cache "DELETE t-cache" DELETE "/api/admin/api-tokens/$(enc "$CACHE")" "${AUTH[@]}"
validate 493-edge-validate-right-after-delete "t-cache right after DELETE" "[\"$CACHE\"]"
cap 494-client-api-right-after-delete "t-cache on the client API right after DELETE" GET /api/client/features -H "Authorization: $CACHE"
sleep "$CACHE_WAIT"
validate 495-edge-validate-later "t-cache ${CACHE_WAIT} s after DELETE" "[\"$CACHE\"]"
cap 496-client-api-later "t-cache on the client API ${CACHE_WAIT} s after DELETE" GET /api/client/features -H "Authorization: $CACHE"
validate 497-edge-validate-expired-later "the expired token t-expired, later" "[\"$EXPIRED\"]"

# ------------------------------------------------------------ clean up
for s in ${cleanup[@]+"${cleanup[@]}"}; do
  curl -sS -o /dev/null -X DELETE "${AUTH[@]}" "$U/api/admin/api-tokens/$(enc "$s")" || true
done
cap 499-list-at-end "list after cleaning up" GET /api/admin/api-tokens "${AUTH[@]}"
