"""scripts/parts.py: the optional parts' marked wiring goes with a "no", only the markers with a
"yes"; markers that don't pair up are refused, naming their line; a dashboard loses the panels of
a part left out. (That every marker of the template pairs up is
tests/scripts/test_copier_template.py's.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scripts.loading import load_script

ROOT = Path(__file__).resolve().parents[2]


parts = load_script("parts")

# Written with @ and [!-- for # and <!--: a project made from the template strips its markers,
# and this text must come through whole.
WIRED = """\
start = 1
@ part: tasks
tasks = 2
    @ part: redis
broker = 3
    @ end part: redis
@ end part: tasks
[!-- part: redis -->
Redis prose
[!-- end part: redis -->
| a table | row | [!-- part: tasks -->
| a worker | row | [!-- part: tasks redis -->
end = 4
""".replace("@", "#").replace("[!--", "<!--")


@pytest.mark.parametrize(
    ("without", "left"),
    [
        (
            (),
            [
                "start = 1",
                "tasks = 2",
                "broker = 3",
                "Redis prose",
                "| a table | row |",
                "| a worker | row |",
                "end = 4",
            ],
        ),
        # A row marked with two parts goes when either goes.
        (("redis",), ["start = 1", "tasks = 2", "| a table | row |", "end = 4"]),
        (("tasks",), ["start = 1", "Redis prose", "end = 4"]),
        (("redis", "tasks"), ["start = 1", "end = 4"]),
    ],
)
def test_a_no_takes_the_block_and_a_yes_only_the_markers(
    without: tuple[str, ...], left: list[str]
) -> None:
    assert parts.strip(WIRED, without).splitlines() == left


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("@ part: tasks\nx = 1\n", "app.py:1: `part: tasks` is never ended"),
        ("x = 1\n@ end part: redis\n", "app.py:2: `end part: redis` closes no open block"),
        ("@ part: redis\n@ part: tasks\n@ end part: redis\n", "app.py:3: `end part: redis`"),
        ("@ part: celery\n@ end part: celery\n", "app.py:1: unknown part 'celery'"),
        ("x\n| a | b | <!-- part: celery -->\n", "app.py:2: unknown part 'celery'"),
        ("| a | b | <!-- part: tasks celery -->\n", "app.py:1: unknown part 'celery'"),
    ],
)
def test_markers_that_do_not_pair_up_are_refused_with_their_line(text: str, where: str) -> None:
    with pytest.raises(parts.MarkerError) as refused:
        parts.strip(text.replace("@", "#"), (), "app.py")
    assert str(refused.value).startswith(where)


def test_an_unknown_part_to_leave_out_is_refused() -> None:
    with pytest.raises(parts.MarkerError, match="unknown parts: celery"):
        parts.apply([], ["celery"])


def test_apply_rewrites_only_the_files_with_markers(tmp_path: Path) -> None:
    wired, plain = tmp_path / "wired.py", tmp_path / "plain.py"
    wired.write_text(WIRED)
    plain.write_text("part = 'not a marker'  # part: tasks, in a sentence\n")
    assert parts.apply([wired, plain], ["tasks"]) == [wired]
    assert wired.read_text() == "start = 1\nRedis prose\nend = 4\n"
    assert plain.read_text() == "part = 'not a marker'  # part: tasks, in a sentence\n"


def panel(title: str, *queries: str) -> dict[str, object]:
    return {"type": "timeseries", "title": title, "targets": [{"expr": q} for q in queries]}


ROW = {"type": "row", "title": "Background tasks", "panels": []}
DASHBOARD = {
    "title": "service",
    "panels": [
        {"type": "row", "title": "Traffic", "panels": []},
        panel("Requests", "sum(rate(http_requests_total[5m]))"),
        panel("By task label", 'sum by (task) (rate(http_requests_total{task="x"}[5m]))'),
        ROW,
        panel("Sent", "sum(rate(tasks_enqueued_total[5m]))"),
        panel(
            "p95", "histogram_quantile(0.95, sum by (le) (rate(task_duration_seconds_bucket[5m])))"
        ),
        panel("Both", "sum(rate(tasks_completed_total[5m]))", "sum(rate(http_requests_total[5m]))"),
        {"type": "text", "title": "A note"},
    ],
}


def titles(text: str) -> list[str]:
    return [p["title"] for p in json.loads(text)["panels"]]


def test_a_dashboard_loses_the_panels_that_only_show_a_dropped_part_s_metrics() -> None:
    text = json.dumps(DASHBOARD, indent=2) + "\n"
    # Labels named like the part and panels that show other metrics too, or no query, stay.
    assert titles(parts.drop_panels(text, ["tasks"])) == [
        "Traffic",
        "Requests",
        "By task label",
        "Background tasks",
        "Both",
        "A note",
    ]
    assert parts.drop_panels(text, ["redis"]) == text  # no metric of its own here
    assert parts.drop_panels(text, []) == text


def test_a_row_left_without_panels_goes_open_or_collapsed() -> None:
    tasks = [panel("Sent", "tasks_enqueued_total"), panel("Done", "tasks_completed_total")]
    traffic = DASHBOARD["panels"][:2]  # a row and its panel, which stay
    open_row = {"title": "d", "panels": [*traffic, ROW, *tasks, ROW, *tasks[:1]]}
    assert titles(parts.drop_panels(json.dumps(open_row), ["tasks"])) == ["Traffic", "Requests"]
    collapsed = {**ROW, "collapsed": True, "panels": tasks}
    mixed = {**collapsed, "title": "Mixed", "panels": [*tasks, panel("Up", "up")]}
    both = {"title": "d", "panels": [collapsed, mixed]}
    left = json.loads(parts.drop_panels(json.dumps(both), ["tasks"]))["panels"]
    assert [(row["title"], [p["title"] for p in row["panels"]]) for row in left] == [
        ("Mixed", ["Up"])
    ]


def test_apply_rewrites_a_dashboard_as_it_was_written(tmp_path: Path) -> None:
    dashboard = tmp_path / "service.json"
    other = tmp_path / "settings.json"
    dashboard.write_text(json.dumps(DASHBOARD, indent=2, ensure_ascii=False) + "\n")
    other.write_text('{"names": ["tasks_enqueued_total"]}\n')
    assert parts.apply([dashboard, other], ["tasks"]) == [dashboard]
    expected = {
        **DASHBOARD,
        "panels": [
            p
            for p in DASHBOARD["panels"]
            if p["title"]
            in {"Traffic", "Requests", "By task label", "Background tasks", "Both", "A note"}
        ],
    }
    assert dashboard.read_text() == json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
