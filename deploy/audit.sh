#!/usr/bin/env bash
# Dependency audit: pip-audit over what is installed in the project's virtualenv.
# Exit codes: 0 no known vulnerability; 1 vulnerabilities found; 3 the advisory database could not be
# reached or answered for nothing (network trouble): CI reports it and does not fail the build for it.
# pip-audit runs from a virtualenv of its own so its dependencies never mix with the project's.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
TOOLS=${AUDIT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/relance-audit-venv}
REPORT=${AUDIT_REPORT:-${TMPDIR:-/tmp}/relance-audit.json}

if [ ! -x "$TOOLS/bin/pip-audit" ]; then
  python3 -m venv "$TOOLS" && "$TOOLS/bin/pip" install --quiet "pip-audit>=2.7,<3" || {
    echo "audit: could not install pip-audit (network?)"; exit 3; }
fi
"$VENV/bin/pip" freeze --exclude-editable > "$TOOLS/requirements.txt"
"$TOOLS/bin/pip-audit" -r "$TOOLS/requirements.txt" --no-deps --disable-pip --progress-spinner off \
  --format json --output "$REPORT" --timeout 30
status=$?
"$TOOLS/bin/python" - "$REPORT" "$status" <<'PY'
import json, sys
path, status = sys.argv[1], int(sys.argv[2])
try:
    report = json.load(open(path))
except (OSError, ValueError):
    print("audit: no report (advisory database unreachable?)"); sys.exit(3)
deps = report.get("dependencies", [])
vulns = [(d["name"], d["version"], v["id"], v.get("fix_versions")) for d in deps for v in d.get("vulns", [])]
skipped = [d for d in deps if d.get("skip_reason")]
for name, version, vid, fixes in vulns:
    print(f"VULNERABLE {name} {version}: {vid} (fixed in {', '.join(fixes or []) or 'no release yet'})")
print(f"audit: {len(deps)} package(s), {len(vulns)} vulnerability(ies), {len(skipped)} not audited")
if vulns:
    sys.exit(1)
if deps and len(skipped) == len(deps):
    print("audit: nothing could be audited (advisory database unreachable?)"); sys.exit(3)
sys.exit(0 if status in (0, 1) else 3)
PY
