"""The replica timeline drawing: nodes and clients, replication arrows, stale reads in red."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from statelab.analysis.history import History
from statelab.render.replica_timeline import COLOURS, render_replica_timeline
from statelab.sim.replication import Fault, ReplicaScenario


def test_svg_is_well_formed_with_faults_and_lagging_replicas() -> None:
    scenario = ReplicaScenario(seed=2, faults=(Fault(10, "partition", "replica-2"),))
    svg = render_replica_timeline(scenario.run(), cursor=3)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "never</title>" in svg  # deliveries to a replica that never came back
    assert f'stroke="{COLOURS["cursor"]}" stroke-dasharray="4 3"' in svg


def test_same_history_same_bytes() -> None:
    history = ReplicaScenario(seed=5).run()
    assert render_replica_timeline(history) == render_replica_timeline(
        History.from_json(history.to_json()))


def test_an_empty_history_still_draws() -> None:
    svg = render_replica_timeline(History(), width=300)
    ET.fromstring(svg)
    assert ">primary</text>" in svg and ">0 ms</text>" in svg
