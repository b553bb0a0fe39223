# Copyright: (c) 2026, talosforge.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of helm_releases (_helm/releases_plan.py) from what helm list and helm get values answer, without
a cluster."""

from __future__ import annotations

import pytest
from ansible_collections.talosforge.cluster.plugins.module_utils._errors import InputError
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.helm import parse_list, parse_values
from ansible_collections.talosforge.cluster.plugins.module_utils._helm.releases_plan import (
    DRIFTED,
    INSTALLED,
    UNCHANGED,
    UPGRADED,
    chart_matches,
    decide,
    releases_from_params,
    updated_epoch,
)

# What helm v4.2.4 prints for `helm list -A -o json` (one release, after one upgrade).
LIST = (
    '[{"name":"cilium","namespace":"kube-system","revision":"2","updated":"2026-12-07 21:10:01.1 +0000 UTC",'
    '"status":"deployed","chart":"cilium-1.20.0","app_version":"1.20.0"}]'
)


def item(**changes):
    base = {"name": "cilium", "namespace": "kube-system", "chart": "cilium", "repo": "https://helm.cilium.io/",
            "version": "1.20.0", "values": {"ipam": {"mode": "kubernetes"}}}  # fmt: skip
    return {**base, **changes}


def release(**changes):
    return releases_from_params([item(**changes)])[0]


def live(**changes):
    return {**parse_list(LIST)[0], **changes}


def test_parse_helm_answers():
    assert parse_list(LIST)[0]["chart"] == "cilium-1.20.0"
    assert parse_list("[]") == [] and parse_list("") == [] and parse_list("null") == []
    assert parse_values("null\n", "x/y") == {}
    assert parse_values('{"ipam":{"mode":"kubernetes"}}', "x/y") == {"ipam": {"mode": "kubernetes"}}
    with pytest.raises(Exception, match="not JSON"):
        parse_list("NAME NAMESPACE")
    with pytest.raises(Exception, match="not a mapping"):
        parse_values("[1]", "x/y")


def test_not_installed_is_installed():
    decision = decide(release(), None, None, None)
    assert decision.action == INSTALLED and decision.keys == ["ipam"]


def test_same_chart_and_values_is_unchanged_whatever_the_file_says():
    decision = decide(release(), live(), {"ipam": {"mode": "kubernetes"}}, None)
    assert decision.action == UNCHANGED and not decision.acts and decision.revision == 2


def test_new_values_of_ours_upgrade():
    wanted = release(values={"ipam": {"mode": "cluster-pool"}})
    old_file = release().file_text()
    decision = decide(wanted, live(), {"ipam": {"mode": "kubernetes"}}, old_file)
    assert decision.action == UPGRADED and decision.keys == ["ipam.mode"]
    assert "values differ at ipam.mode" in decision.reason


def test_hand_made_change_while_the_file_holds_what_is_wanted_is_drift():
    wanted = release()
    decision = decide(wanted, live(revision="3"), {"ipam": {"mode": "kubernetes"}, "debug": {"enabled": True}},
                      wanted.file_text())  # fmt: skip
    assert decision.action == DRIFTED and decision.acts
    assert decision.reason.startswith("DRIFT") and "debug" in decision.reason


def test_chart_version_bump_is_an_upgrade_not_drift():
    bumped = release(version="1.20.1")
    decision = decide(bumped, live(), {"ipam": {"mode": "kubernetes"}}, release().file_text())
    assert decision.action == UPGRADED and "chart cilium-1.20.0 instead of cilium 1.20.1" in decision.reason


def test_chart_changed_by_hand_is_drift():
    wanted = release()
    decision = decide(wanted, live(chart="cilium-1.19.0"), {"ipam": {"mode": "kubernetes"}}, wanted.file_text())
    assert decision.action == DRIFTED


def test_a_failed_release_is_upgraded_again():
    decision = decide(release(), live(status="failed"), {"ipam": {"mode": "kubernetes"}}, None)
    assert decision.action == UPGRADED and "status failed" in decision.reason and "again" in decision.reason
    assert decision.recovery is None and decision.blocked is None


UPDATED = "2026-12-07 21:03:31.135431322 +0000 UTC"


def test_helm_list_time_stamps():
    assert updated_epoch(UPDATED) == pytest.approx(1796677411.135431)
    assert updated_epoch("2026-12-07 22:03:31 +0100 CET") == pytest.approx(1796677411)
    assert updated_epoch("yesterday") is None and updated_epoch(None) is None


@pytest.mark.parametrize(
    ("status", "recovery", "action"),
    [("pending-install", "uninstall", INSTALLED), ("uninstalling", "uninstall", INSTALLED),
     ("pending-upgrade", "rollback", UPGRADED), ("pending-rollback", "rollback", UPGRADED)],
)  # fmt: skip
def test_a_release_an_interrupted_helm_run_left_pending_is_cleared_then_installed_again(status, recovery, action):
    now = updated_epoch(UPDATED) + 301
    decision = decide(release(), live(status=status, updated=UPDATED), {}, None, now=now, stale_after=300)
    assert (decision.action, decision.recovery, decision.blocked) == (action, recovery, None)
    assert f"status {status} for 301 s (an interrupted helm run)" in decision.reason


def test_a_release_another_helm_run_holds_is_left_alone():
    now = updated_epoch(UPDATED) + 20
    decision = decide(release(), live(status="pending-upgrade", updated=UPDATED), {}, None, now=now, stale_after=300)
    assert decision.blocked and "another helm operation holds the release" in decision.blocked
    assert "started 20 s ago" in decision.blocked and "re-run when it is 300 s old" in decision.blocked
    unknown = decide(release(), live(status="pending-install", updated="?"), {}, None, now=now)
    assert unknown.blocked and "started at ?" in unknown.blocked


def test_chart_versions_with_and_without_v():
    assert chart_matches("cert-manager-v1.19.1", "cert-manager", "1.19.1")
    assert chart_matches("cert-manager-v1.19.1", "cert-manager", "v1.19.1")
    assert chart_matches("metallb-0.16.1", "metallb", "v0.16.1")
    assert not chart_matches("metallb-0.16.10", "metallb", "0.16.1")
    assert not chart_matches("other-metallb-0.16.1", "metallb", "0.16.1")


def test_oci_chart_name_and_file_text():
    oci = release(chart="oci://docker.io/envoyproxy/gateway-helm", repo=None, version="1.6.0", name="eg",
                  namespace="envoy-gateway-system", values={})  # fmt: skip
    assert oci.chart_name == "gateway-helm"
    assert oci.chart.args() == ["oci://docker.io/envoyproxy/gateway-helm", "--version", "1.6.0"]
    assert oci.file_text().startswith("# envoy-gateway-system/eg: chart gateway-helm 1.6.0 from oci://")
    assert oci.file_text().endswith("{}\n")


def test_bad_entries_are_all_named_before_anything_runs():
    with pytest.raises(InputError) as error:
        releases_from_params([
            item(name="Cilium"), item(repo=None), item(version=""), item(chart="oci://x/y", repo="https://r"),
            item(name="a", namespace="b-c"), item(name="c-a", namespace="b"), item(values=[1]),
        ])  # fmt: skip
    text = str(error.value)
    for words in ("name 'Cilium'", "repo must be", "version is required", "takes no repo",
                  "share the values file b-c-a.yaml", "values must be a mapping"):  # fmt: skip
        assert words in text
