#!/usr/bin/env bash
# The tiers of scripts/test. Each tier_* function runs one tool and prints a one-line result as its last
# output line ("RESULT: <text>"); tf_run_tier records pass/fail and that text for the summary.

TF_STAGE="$TF_BUILD/stage/ansible_collections/talosforge/cluster"
TF_RESULTS=()
TF_FAILED=0

# tf_stage_collection: a plain copy of the tracked and new files in an ansible_collections tree, which
# ansible-test and antsibull-docs need (they refuse symlinks and want the namespace/name layout).
tf_stage_collection() {
    rm -rf "$TF_BUILD/stage"
    mkdir -p "$TF_STAGE"
    (cd "$TF_ROOT" && git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ "$TF_STAGE/")
    # ansible-test lists the files to check with git; without a repository it finds no targets at all.
    (cd "$TF_STAGE" && git init -q . && git add -A)
}

tf_run_tier() {
    local name="$1" fn="$2" log="$TF_BUILD/logs/$1.log" start=$SECONDS rc result
    mkdir -p "$TF_BUILD/logs"
    tf_say "tier $name (log: ${log#"$TF_ROOT"/})"
    "$fn" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    result="$(grep -a '^RESULT: ' "$log" | tail -n 1 | cut -c9-)"
    [ -n "$result" ] || result="no result line"
    if [ "$rc" -eq 0 ]; then
        TF_RESULTS+=("$name: ok, $result ($((SECONDS - start))s)")
    else
        TF_FAILED=1
        TF_RESULTS+=("$name: FAILED, $result ($((SECONDS - start))s)")
    fi
}

tf_summary() {
    local line
    echo
    for line in "${TF_RESULTS[@]}"; do echo "  $line"; done
    if [ "$TF_FAILED" -eq 0 ]; then
        echo "SUMMARY: all ${#TF_RESULTS[@]} tiers passed in $1s"
    else
        echo "SUMMARY: FAILED: $(printf '%s\n' "${TF_RESULTS[@]}" | grep -c FAILED) of ${#TF_RESULTS[@]} tiers failed ($1s)"
    fi
    return "$TF_FAILED"
}

# _pytest VENV LABEL: pytest over tests/unit and tests/sandbox; a run that collects nothing is a failure.
_pytest() {
    local venv="$1" report="$TF_BUILD/logs/$2.junit.xml" rc
    (cd "$TF_ROOT" && "$venv/bin/python" -m pytest -q -p no:cacheprovider --junitxml="$report" "${@:3}")
    rc=$?
    if [ "$rc" -eq 5 ]; then
        echo "RESULT: pytest collected no tests, which counts as a failure"
        return 1
    fi
    "$venv/bin/python" - "$report" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
tests, failures, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
print(f"RESULT: {tests - failures - errors - skipped} passed, {failures + errors} failed, {skipped} skipped")
PY
    return "$rc"
}

# Arguments after `--` on the scripts/test command line (TF_PYTEST_ARGS) go to pytest: paths, -k, -x ...
tier_units() { _pytest "$TF_VENV" units -n 2 "${TF_PYTEST_ARGS[@]}"; }

tier_units_compat() { _pytest "$TF_VENV_COMPAT" units-compat "${TF_PYTEST_ARGS[@]}"; }

# ruff (lint and format) over the tree, mypy over the collection's Python (mypy.ini), yamllint over the YAML.
tier_style() {
    local failed=()
    (cd "$TF_ROOT" && ruff check --output-format concise .) || failed+=("ruff check")
    (cd "$TF_ROOT" && ruff format --check --quiet .) || failed+=("ruff format (run: ruff format .)")
    (cd "$TF_ROOT" && mypy -p ansible_collections.talosforge.cluster.plugins) || failed+=("mypy")
    (cd "$TF_ROOT" && yamllint --strict .) || failed+=("yamllint")
    if [ "${#failed[@]}" -eq 0 ]; then
        echo "RESULT: ruff clean and formatted at 120 columns, mypy clean on plugins/, yamllint clean"
        return 0
    fi
    echo "RESULT: findings from $(IFS=,; echo "${failed[*]}")"
    return 1
}

tier_sanity() {
    local pip_version rc
    # ansible-test bootstraps pip in its virtualenvs with a script from a host that is unreachable here; it uses
    # a cached copy when there is one, so put our offline stand-in there.
    pip_version="$("$TF_VENV/bin/python" -c 'import re, ansible_test, pathlib
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip=.([0-9.]+).", src.read_text()).group(1))')"
    mkdir -p ~/.ansible/test/cache
    cp "$TF_ROOT/scripts/lib/get_pip_offline.py" ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"
    (cd "$TF_STAGE" && ansible-test sanity --python 3.12 --color no --requirements)
    rc=$?
    [ "$rc" -eq 0 ] && echo "RESULT: no issues, no ignore files" || echo "RESULT: ansible-test sanity found issues"
    return "$rc"
}

tier_lint() {
    local rc
    # ansible-lint lints the collection through a copy it installs in ~/.ansible/collections; a copy left there by an
    # earlier run of another revision is used as it is (roles it lacks "not found"), so start without one.
    rm -rf ~/.ansible/collections/ansible_collections/talosforge/cluster
    (cd "$TF_ROOT" && ansible-lint --offline --profile production --nocolor)
    rc=$?
    [ "$rc" -eq 0 ] && echo "RESULT: production profile, no findings" || echo "RESULT: ansible-lint findings"
    return "$rc"
}

tier_docs() {
    local rc
    antsibull-docs lint-collection-docs --plugin-docs "$TF_STAGE"
    rc=$?
    [ "$rc" -eq 0 ] && echo "RESULT: plugin docs clean" || echo "RESULT: antsibull-docs found issues"
    return "$rc"
}

tier_changelog() {
    local rc
    (cd "$TF_ROOT" && antsibull-changelog lint)
    rc=$?
    [ "$rc" -eq 0 ] && echo "RESULT: $(find "$TF_ROOT/changelogs/fragments" -name '*.yml' | wc -l) fragments valid" \
        || echo "RESULT: changelog fragments invalid"
    return "$rc"
}

# The site playbook on the oldest supported pair (ansible-core 2.19, Python 3.11): a first run against a fresh
# sandbox, then a re-run that must change nothing.
tier_site_compat() {
    local inventory="$TF_ROOT/inventories/sandbox/cluster.talosforge.yml" recap rc=0
    "$TF_VENV_COMPAT/bin/python" -m sandbox stop >/dev/null
    rm -rf "$TF_ROOT/.sandbox"
    "$TF_VENV_COMPAT/bin/python" -m sandbox start || return 1
    for run in first re-run; do
        # The sandbox cluster runs its workloads: Flux's helm-controller waits for Deployments to be available.
        if ! ANSIBLE_NOCOLOR=1 TALOSFORGE_SANDBOX_CONTROLLERS=1 "$TF_VENV_COMPAT/bin/ansible-playbook" talosforge.cluster.site \
            -i "$inventory" >"$TF_BUILD/logs/site-compat-$run.log" 2>&1; then
            tail -n 30 "$TF_BUILD/logs/site-compat-$run.log"
            rc=1
            break
        fi
        recap="$(grep -E '^cp-1 +:' "$TF_BUILD/logs/site-compat-$run.log")"
        echo "$run: $recap"
    done
    "$TF_VENV_COMPAT/bin/python" -m sandbox stop
    if [ "$rc" -eq 0 ] && ! grep -qE '^cp-1 +:.* changed=0 ' "$TF_BUILD/logs/site-compat-re-run.log"; then
        echo "the re-run changed something"
        rc=1
    fi
    [ "$rc" -eq 0 ] && echo "RESULT: site on ansible-core 2.19 / Python 3.11: converged, re-run changed nothing" \
        || echo "RESULT: site on ansible-core 2.19 / Python 3.11 failed"
    return "$rc"
}

tier_molecule() {
    local scenario rc=0 passed=0 total=0
    for scenario in "$TF_ROOT"/extensions/molecule/*/molecule.yml; do
        scenario="$(basename "$(dirname "$scenario")")"
        total=$((total + 1))
        if (cd "$TF_ROOT" && molecule test -s "$scenario"); then passed=$((passed + 1)); else rc=1; fi
    done
    [ "$total" -gt 0 ] || { echo "RESULT: no molecule scenarios found, which counts as a failure"; return 1; }
    echo "RESULT: $passed of $total scenarios passed (create, converge, idempotence, verify, destroy)"
    return "$rc"
}
