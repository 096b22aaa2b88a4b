#!/usr/bin/env bash
# Mutation testing over the pure core: how much of each module's behaviour its tests pin down.
#
#   bench/mutation.sh MODULE...      e.g. bench/mutation.sh codes address lineage
#
# For each MODULE it copies the repository's files (tracked, and new ones not ignored) to a scratch directory, runs mutmut
# over the module's source with the module's own tests (below), and prints killed, survived,
# no tests, timeouts and the score (killed / (killed + survived + no tests)). Survivors are
# listed with `mutmut show NAME` in the scratch directory it names (kept with --keep).
#
# Modules: codes address matching lineage crs metrics appeals; or a path under gridmap/ with
# its tests as PATH:TESTS (e.g. gridmap/geometry.py:tests/merge/test_frame.py).
# Not part of every CI run: a module takes minutes. Results: docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="$ROOT/.venv/bin/python"
KEEP=0
MODULES=()
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) MODULES+=("$arg") ;;
  esac
done
[ ${#MODULES[@]} -gt 0 ] || { sed -n '2,14p' "$0"; exit 2; }
"$PY" -c "import mutmut" 2>/dev/null || { echo "mutmut is missing: ./scripts/setup.sh installs the dev tools" >&2; exit 2; }

target() {  # MODULE -> "source glob|tests"
  case "$1" in
    codes)    echo "gridmap/codes/*|tests/codes/test_codes.py gridmap/codes" ;;
    address)  echo "gridmap/address/*|tests/address/test_parse.py tests/address gridmap/address" ;;
    matching) echo "gridmap/resolve/matching.py|tests/resolve/test_matching.py gridmap/resolve/matching.py" ;;
    lineage)  echo "gridmap/lineage.py|tests/test_lineage.py gridmap/lineage.py" ;;
    crs)      echo "gridmap/crs.py|tests/test_crs.py gridmap/crs.py" ;;
    metrics)  echo "gridmap/rebalance/metrics.py|tests/rebalance/test_metrics.py gridmap/rebalance/metrics.py" ;;
    appeals)  echo "gridmap/appeals/*|tests/appeals/test_rules.py gridmap/appeals" ;;
    *:*)      echo "${1%%:*}|${1#*:} ${1%%:*}" ;;
    *) echo "unknown module '$1': expected codes, address, matching, lineage, crs, metrics, appeals or PATH:TESTS" >&2; return 2 ;;
  esac
}

printf '%-10s %7s %7s %9s %8s %7s\n' module killed survived "no tests" timeout score
for m in "${MODULES[@]}"; do
  spec="$(target "$m")"
  src="${spec%%|*}"
  read -r -a tests <<<"${spec#*|}"
  existing=()
  for t in "${tests[@]}"; do [ -e "$t" ] && existing+=("$t"); done
  work="$(mktemp -d "/tmp/gridmap-mutation-$m-XXXX")"
  git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$work" 2>/dev/null || true
  # the copy's own pyproject tells mutmut what to mutate and which tests to run
  "$PY" - "$work/pyproject.toml" "$src" "${existing[@]}" <<'EOF'
import sys, re
path, src, *tests = sys.argv[1:]
text = open(path, encoding="utf-8").read()
text = re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", text)
addopts = '"-x", "-q", "-p", "no:cacheprovider", "--no-cov", "--doctest-modules"'
text += (
    "\n[tool.mutmut]\n"
    'source_paths = ["gridmap"]\n'
    f'only_mutate = ["{src}"]\n'
    f"pytest_add_cli_args = [{addopts}]\n"
    f"pytest_add_cli_args_test_selection = {tests!r}\n"
    'also_copy = ["api", "geodata", "bench", "notebooks"]\n'
)
open(path, "w", encoding="utf-8").write(text.replace("'", '"'))
EOF
  (cd "$work" && CI= "$ROOT/.venv/bin/mutmut" run --max-children "${MUTATION_JOBS:-2}" >"$work/run.log" 2>&1) || true
  (cd "$work" && "$ROOT/.venv/bin/mutmut" results --all true >"$work/results.txt" 2>/dev/null) || true
  "$PY" - "$work/results.txt" "$m" <<'EOF'
import sys, collections
path, name = sys.argv[1:]
counts = collections.Counter()
for line in open(path, encoding="utf-8"):
    if ":" in line:
        counts[line.rsplit(":", 1)[1].strip()] += 1
k, s, n, t = counts["killed"], counts["survived"], counts["no tests"], counts["timeout"]
total = k + s + n
score = f"{100 * k / total:.1f}%" if total else "-"
print(f"{name:<10} {k:>7} {s:>7} {n:>9} {t:>8} {score:>7}")
EOF
  if [ "$KEEP" = 1 ]; then echo "  kept: $work (cd there; mutmut results; mutmut show NAME)"; else rm -rf "$work"; fi
done
