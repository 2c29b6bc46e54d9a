#!/usr/bin/env bash
# Sets up Talos (the Hermes execution agent) on a Mac that runs Ollama, as a launchd LaunchAgent:
#   1. checks Node (>= 22.18, which runs .ts files directly) and Ollama,
#   2. picks the address to listen on (this Mac's Tailscale IP unless TALOS_HOST is given),
#   3. generates TALOS_TOKEN unless one is given,
#   4. writes ~/Library/LaunchAgents/com.hermes.talos.plist (mode 600: it holds the token),
#   5. loads it with launchctl and checks /agent/health.
#
# Run from the Hermes checkout on the Mac, after `npm ci --omit=dev`:
#   bash agent/setup/setup-mac.sh
# Overrides (environment): TALOS_HOST, TALOS_PORT (8001), TALOS_TOKEN, OLLAMA_HOST
# (http://127.0.0.1:11434), TALOS_LOG_DIR (~/Library/Logs/hermes-talos).
# Run it again at any time: it replaces the job (a new token is generated unless TALOS_TOKEN is set).
set -euo pipefail

LABEL="com.hermes.talos"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TEMPLATE="$REPO/agent/setup/$LABEL.plist"
TARGET="$HOME/Library/LaunchAgents/$LABEL.plist"
PORT="${TALOS_PORT:-8001}"
OLLAMA="${OLLAMA_HOST:-http://127.0.0.1:11434}"
LOG_DIR="${TALOS_LOG_DIR:-$HOME/Library/Logs/hermes-talos}"

die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
ok() { printf '\033[32m✓\033[0m %s\n' "$*"; }

[[ "$(uname -s)" == "Darwin" ]] || die "this script is for macOS (on Linux, use pm2: pm2 start ecosystem.config.cjs --only talos)"
[[ -f "$TEMPLATE" ]] || die "template not found: $TEMPLATE"

# ---- Node ------------------------------------------------------------------------------------
NODE="$(command -v node || true)"
[[ -n "$NODE" ]] || die "node not found; install Node 22.18 or newer (brew install node, or nvm)"
NODE_VERSION="$("$NODE" -p 'process.versions.node')"
IFS=. read -r NODE_MAJOR NODE_MINOR _ <<<"$NODE_VERSION"
if (( NODE_MAJOR < 22 )) || { (( NODE_MAJOR == 22 )) && (( NODE_MINOR < 18 )); }; then
  die "node $NODE_VERSION is too old: Talos needs 22.18+ (runs TypeScript directly); found at $NODE"
fi
# launchd does not read your shell profile: keep the absolute path (nvm users: a stable one).
NODE="$(cd "$(dirname "$NODE")" && pwd)/$(basename "$NODE")"
ok "node $NODE_VERSION ($NODE)"
[[ -d "$REPO/node_modules/hono" && -d "$REPO/node_modules/ollama" ]] ||
  die "dependencies missing: run \`npm ci --omit=dev\` in $REPO first"

# ---- Ollama ----------------------------------------------------------------------------------
if command -v ollama >/dev/null 2>&1; then
  ok "ollama $(ollama --version 2>/dev/null | awk '{print $NF}' | tail -n1)"
else
  warn "the ollama command is not on PATH (install it from https://ollama.com/download)"
fi
if curl -fsS --max-time 3 "$OLLAMA/api/version" >/dev/null 2>&1; then
  ok "Ollama answers at $OLLAMA"
  MODELS="$(curl -fsS --max-time 3 "$OLLAMA/api/tags" | grep -o '"name":"[^"]*"' | cut -d'"' -f4 | paste -sd, - || true)"
  if [[ -n "$MODELS" ]]; then ok "models: $MODELS"; else warn "no models pulled yet: ollama pull llama3.1:8b"; fi
else
  warn "Ollama does not answer at $OLLAMA yet; Talos will report 'degraded' until it does"
fi

# ---- where to listen -------------------------------------------------------------------------
HOST="${TALOS_HOST:-}"
if [[ -z "$HOST" ]]; then
  TAILSCALE="$(command -v tailscale || true)"
  [[ -z "$TAILSCALE" && -x /Applications/Tailscale.app/Contents/MacOS/Tailscale ]] &&
    TAILSCALE=/Applications/Tailscale.app/Contents/MacOS/Tailscale
  if [[ -n "$TAILSCALE" ]]; then HOST="$("$TAILSCALE" ip -4 2>/dev/null | head -n1 || true)"; fi
  if [[ -z "$HOST" ]]; then
    HOST=127.0.0.1
    warn "no Tailscale IPv4 address found; listening on 127.0.0.1 only (set TALOS_HOST to override)"
  fi
fi
ok "Talos will listen on $HOST:$PORT"

# ---- token -----------------------------------------------------------------------------------
TOKEN="${TALOS_TOKEN:-}"
GENERATED=0
if [[ -z "$TOKEN" ]]; then
  TOKEN="$(openssl rand -hex 32)"
  GENERATED=1
fi
[[ "$TOKEN" =~ ^[A-Za-z0-9._~+/=-]{16,}$ ]] ||
  die "TALOS_TOKEN must be at least 16 characters of letters, digits and ._~+/=- (try: openssl rand -hex 32)"

# ---- the plist -------------------------------------------------------------------------------
# Values go into XML through sed: escape for both.
xml() { local s="$1"; s="${s//&/&amp;}"; s="${s//</&lt;}"; s="${s//>/&gt;}"; printf '%s' "$s"; }
sedv() { printf '%s' "$(xml "$1")" | sed -e 's/[\\|&]/\\&/g'; }

mkdir -p "$LOG_DIR" "$(dirname "$TARGET")"
umask 077
TMP="$(mktemp "${TARGET}.XXXXXX")"
trap 'rm -f "$TMP"' EXIT
sed -e "s|__NODE__|$(sedv "$NODE")|g" \
    -e "s|__REPO__|$(sedv "$REPO")|g" \
    -e "s|__TALOS_HOST__|$(sedv "$HOST")|g" \
    -e "s|__TALOS_PORT__|$(sedv "$PORT")|g" \
    -e "s|__TALOS_TOKEN__|$(sedv "$TOKEN")|g" \
    -e "s|__OLLAMA_HOST__|$(sedv "$OLLAMA")|g" \
    -e "s|__LOG_DIR__|$(sedv "$LOG_DIR")|g" \
    "$TEMPLATE" >"$TMP"
plutil -lint "$TMP" >/dev/null || die "the generated plist is invalid"
chmod 600 "$TMP"
mv "$TMP" "$TARGET"
trap - EXIT
ok "wrote $TARGET"

# ---- load ------------------------------------------------------------------------------------
DOMAIN="gui/$(id -u)"
launchctl bootout "$DOMAIN/$LABEL" >/dev/null 2>&1 || true
launchctl bootstrap "$DOMAIN" "$TARGET"
launchctl enable "$DOMAIN/$LABEL"
launchctl kickstart -k "$DOMAIN/$LABEL" >/dev/null 2>&1 || true
ok "loaded $LABEL (logs: $LOG_DIR/talos.out.log, talos.err.log)"

URL="http://$HOST:$PORT"
[[ "$HOST" == *:* ]] && URL="http://[$HOST]:$PORT"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  if HEALTH="$(curl -fsS --max-time 2 -H "Authorization: Bearer $TOKEN" "$URL/agent/health" 2>/dev/null)"; then
    ok "health: $(printf '%s' "$HEALTH" | grep -o '"status":"[a-z]*"' | head -n1)"
    break
  fi
  sleep 1
done
[[ -n "${HEALTH:-}" ]] || warn "no answer from $URL/agent/health yet; see $LOG_DIR/talos.err.log"

echo
echo "On the Hermes machine, set in its .env:"
echo "  TALOS_URL=$URL"
if (( GENERATED )); then
  echo "  TALOS_TOKEN=$TOKEN"
  echo "(the token is stored only in $TARGET; keep it secret)"
else
  echo "  TALOS_TOKEN=<the token you passed in TALOS_TOKEN>"
fi
