"""HTML evaluation and agent pages: data, pictures, audio, privacy, the command, and the pages in real Chromium."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callqa.cli import app
from callqa.errors import InputError, StoreError
from callqa.report.agent import agent_summary
from callqa.report.charts import day_chart
from callqa.report.html import evaluation_html, scorecard, write_agent_page, write_evaluation_page
from callqa.report.media import AudioSource, audio_for_report
from callqa.report.timeline import build_timeline, scale, tick_step
from callqa.report.view import call_view
from callqa.store import Store

import report_helpers as rh

runner = CliRunner()
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
NO_AUDIO = AudioSource(None, None, "no audio in this test")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return rh.report_db(tmp_path_factory)


@pytest.fixture(scope="module")
def views(db):
    with Store(db.path).connect_read() as con:
        return {cid: call_view(con, cid, db.path) for cid in (rh.GOOD, rh.BAD, rh.LATER)}


def _rules(view):
    return view["evaluation"]["results"]


# --------------------------------------------------------------------------- page data


def test_scorecard_groups_every_rule_once_in_section_order(views):
    ev = views[rh.BAD]["evaluation"]
    cards = scorecard(ev)
    assert [c.section for c in cards] == [s["section"] for s in ev["sections"]]
    assert [r["rule_id"] for c in cards for r in c.results] == [r["rule_id"] for r in ev["results"]]
    assert {c.section: (c.score, c.max_score) for c in cards} == {s["section"]: (s["score"], s["max_score"])
                                                                   for s in ev["sections"]}
    assert scorecard(None) == ()


def test_timeline_draws_turns_silences_overlaps_findings_and_evidence(views):
    view = views[rh.GOOD]
    tl = build_timeline(view)
    assert [lane.role for lane in tl.lanes] == ["agent", "customer"]
    assert len(tl.turns) == len(view["turns"]) and len(tl.pii) == len(view["pii"]) == 2
    (silence,) = tl.silences
    (overlap,) = tl.overlaps
    s, o = view["metrics"]["silences"][0], view["metrics"]["overlaps"][0]
    assert silence.x == pytest.approx(tl.x(s["start_s"])) and silence.x + silence.w == pytest.approx(tl.x(s["end_s"]))
    assert overlap.t == o["start_s"] and "agent interrupted customer" in overlap.label
    lane_y = {lane.role: lane.y for lane in tl.lanes}
    assert all(b.y == lane_y[b.kind] for b in tl.turns)
    assert {b.y for b in tl.pii} == {lane_y["customer"]}              # the customer said both values
    evidence = [(e["start"], r["outcome"]) for r in _rules(view) for e in r["evidence"]]
    drawn = [(b.t, b.kind) for b in tl.markers] + [(b.t, b.kind) for b in tl.windows]
    assert set(drawn) == set(evidence)
    assert all(tl.x0 <= b.x + b.w / 2 <= tl.x1 for b in tl.markers)
    assert tl.ticks[0].label == "0:00" and tl.ticks[1].label == "0:05" and tl.ticks[-1].x <= tl.x1


def test_timeline_stacks_markers_at_the_same_moment_and_has_an_unknown_lane():
    results = [{"rule_id": f"r{k}", "outcome": "fail" if k else "pass", "evidence": [
        {"start": 2.0, "end": 2.5, "turn_index": 0, "excerpt": "x"}]} for k in range(3)]
    view = {"duration_s": 60.0, "turns": [{"index": 0, "role": "unknown", "speaker": "S1", "start": 1.0, "end": 3.0,
                                           "text": "hello"}], "evaluation": {"results": results}}
    tl = build_timeline(view)
    assert [lane.role for lane in tl.lanes] == ["agent", "customer", "unknown"]
    assert len({b.y for b in tl.markers}) == 3 and tl.markers[0].kind == "pass"   # failures drawn last, on top
    assert tl.turns[0].y == tl.lanes[-1].y


@pytest.mark.parametrize("duration, step", [(20, 2), (53.3, 5), (600, 60), (1800, 300), (14400, 1800)])
def test_tick_steps(duration, step):
    assert tick_step(duration) == step


def test_scale_clamps_to_the_plot():
    assert scale(-5, 10, 100, 200) == 100 and scale(50, 10, 100, 200) == 200 and scale(5, 10, 100, 200) == 150


def test_day_chart_breaks_the_line_on_days_without_calls():
    values = [(date(2026, 11, 20), 80.0), (date(2026, 11, 21), 60.0), (date(2026, 11, 23), 90.0)]
    chart = day_chart("score", values, date(2026, 11, 20), date(2026, 11, 23), hi=100.0, limit=80.0)
    assert [len(s) for s in chart.segments] == [2, 1]
    first, second, third = chart.points
    assert first.x == chart.x0 and third.x == chart.x1 and first.y == chart.limit_y
    assert second.y > first.y > third.y                                  # lower values sit lower (svg y grows down)
    assert day_chart("empty", [], date(2026, 11, 20), date(2026, 11, 20)).empty


# --------------------------------------------------------------------------- agent scorecard data


def test_agent_summary_over_a_range(db):
    with Store(db.path).connect_read() as con:
        s = agent_summary(con, rh.AGENT, None, None, db.path)
        one_day = agent_summary(con, rh.AGENT, date(2026, 11, 21), date(2026, 11, 21), db.path)
        with pytest.raises(StoreError, match="no calls of agent 'nobody'"):
            agent_summary(con, "nobody", None, None, db.path)
        with pytest.raises(StoreError, match="after"):
            agent_summary(con, rh.AGENT, date(2026, 11, 22), date(2026, 11, 21), db.path)
    assert [c.call_id for c in s.calls] == [rh.GOOD, rh.BAD, rh.LATER]    # not the other agent's call
    assert s.first_day == date(2026, 11, 20) and s.last_day == date(2026, 11, 23)
    assert s.mean_score == pytest.approx(200 / 3)                          # GOOD counts with its newest evaluation
    assert s.pass_rate == pytest.approx(2 / 3) and s.auto_fails == 1
    assert s.best.call_id == rh.LATER and [c.call_id for c in s.worst] == [rh.BAD]
    assert [d.day.day for d in s.days] == [20, 21, 23]
    top = {f.rule_id: f for f in s.failed_rules}
    assert top["card_read_back"].failed == 1 and top["card_read_back"].applicable == 3
    assert top["card_read_back"].critical and top["card_read_back"].call_ids == (rh.BAD,)
    assert s.failed_rules[0].critical                                      # critical first among equals
    compliance = dict(s.section_means)["compliance"]
    assert compliance == pytest.approx((100 + 100 * 5 / 15 + 100) / 3)
    assert [c.call_id for c in one_day.calls] == [rh.BAD] and one_day.pass_rate == 0


# --------------------------------------------------------------------------- audio next to the page


def test_audio_is_linked_copied_embedded_or_left_out(db, tmp_path):
    out = tmp_path / "pages" / "call.html"
    out.parent.mkdir()
    kw = dict(stored=rh.AUDIO_NAME, db=db.path, out=out)
    linked = audio_for_report(rh.GOOD, mode="link", **kw)
    assert (out.parent / linked.src).resolve() == db.audio.resolve() and linked.mime == "audio/wav"
    copied = audio_for_report(rh.GOOD, mode="copy", **kw)
    assert copied.src == "call.wav" and copied.copied_to.read_bytes() == db.audio.read_bytes()
    embedded = audio_for_report(rh.GOOD, mode="embed", **kw)
    assert embedded.src.startswith("data:audio/wav;base64,UklGR")         # "RIFF"
    assert audio_for_report(rh.GOOD, mode="none", **kw).src is None
    gone = audio_for_report(rh.GOOD, stored="audio/moved.wav", db=db.path, out=out)
    assert gone.src is None and "moved.wav) was not found" in gone.note
    never = audio_for_report(rh.BAD, stored=None, db=db.path, out=out)
    assert never.src is None and f"callqa redact-audio {rh.BAD[:12]}" in never.note
    with pytest.raises(InputError, match="no such redacted recording"):
        audio_for_report(rh.GOOD, explicit=tmp_path / "nope.wav", **kw)


def test_the_original_recording_is_refused(db, tmp_path):
    original = tmp_path / "original.wav"
    original.write_bytes(b"RIFF pretend raw recording")
    call_id = hashlib.sha256(original.read_bytes()).hexdigest()
    with pytest.raises(InputError, match="original recording"):
        audio_for_report(call_id, stored=None, db=db.path, out=tmp_path / "r.html", explicit=original)


# --------------------------------------------------------------------------- the pages as text


def test_pages_are_self_contained_and_escaped(db, tmp_path):
    with Store(db.path).connect_read() as con:
        page = write_evaluation_page(con, rh.BAD[:6], db.path, tmp_path / "bad.html").path.read_text(encoding="utf-8")
        (agent, *_) = write_agent_page(con, rh.AGENT, db.path, out=tmp_path / "agent.html")
    for html in (page, agent.path.read_text(encoding="utf-8")):
        assert len(re.findall(r"<script\b", html)) == 1                  # ours, nothing injected
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)   # nothing loaded from the network
        assert "<link" not in html and "@import" not in html
        assert "default-src 'none'" in html
    assert rh.HOSTILE_QUEUE not in page and "&lt;script&gt;alert(&#34;queue&#34;)&lt;/script&gt;" in page
    assert rh.HOSTILE_WORD not in page and "&lt;i&gt;really&lt;/i&gt;" in page


def test_no_planted_raw_number_reaches_a_page(db, tmp_path):
    with Store(db.path).connect_read() as con:
        pages = write_agent_page(con, rh.AGENT, db.path, out=tmp_path / "agent.html", with_calls=True)
    assert len(pages) == 4
    for p in pages:
        html = p.path.read_text(encoding="utf-8")
        assert not [raw for raw in rh.RAW_FORMS if raw in html], p.path.name
    good = (tmp_path / f"report-{rh.GOOD[:12]}.html").read_text(encoding="utf-8")
    assert "•••• •••• •••• 6467" in good and "[CARD_NUMBER]" in good  # masked and token forms are shown


def test_low_role_confidence_is_flagged_with_its_note(views):
    assert 'id="roles-warning"' in evaluation_html(views[rh.BAD], NO_AUDIO)
    assert "the customer channel said the greeting" in evaluation_html(views[rh.BAD], NO_AUDIO)
    assert 'id="roles-warning"' not in evaluation_html(views[rh.GOOD], NO_AUDIO)


# --------------------------------------------------------------------------- the command line


def test_report_command_default_names_and_errors(db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ok = runner.invoke(app, ["report", rh.GOOD[:7], "--db", str(db.path), "--audio", "copy"])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / f"report-{rh.GOOD[:12]}.html").is_file() and (tmp_path / f"report-{rh.GOOD[:12]}.wav").is_file()
    agent = runner.invoke(app, ["report", "--agent", rh.AGENT, "--from", "2026-11-20", "--to", "2026-11-21",
                                "--db", str(db.path), "--calls"])
    assert agent.exit_code == 0, agent.output
    page = (tmp_path / "agent-A-1042-2026-11-20_2026-11-21.html").read_text(encoding="utf-8")
    assert f'href="report-{rh.BAD[:12]}.html"' in page and rh.LATER[:12] not in page
    for args, code in ((["report"], 2), (["report", rh.GOOD[:7], "--agent", rh.AGENT], 2),
                       (["report", "--agent", rh.AGENT, "--from", "20.11.2026"], 2),
                       (["report", rh.GOOD[:7], "--audio", "stream"], 2),
                       (["report", "--agent", "nobody"], 1), (["report", "ffff"], 1)):
        result = runner.invoke(app, [*args, "--db", str(db.path)])
        assert result.exit_code == code, (args, result.output)


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (make system-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page opened from its file, collecting console errors, page errors and dialogs."""

    def __init__(self, browser, path: Path):
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1360, "height": 900})
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")


def _audio_at(page, t: float) -> None:
    page.wait_for_function("t => Math.abs(document.getElementById('call-audio').currentTime - t) < 0.75", arg=t,
                           timeout=10_000)


@pytest.mark.slow
def test_evaluation_page_in_chromium(browser, db, views, tmp_path):
    with Store(db.path).connect_read() as con:
        written = write_evaluation_page(con, rh.GOOD[:6], db.path, tmp_path / "good.html")
    view = views[rh.GOOD]
    p = Page(browser, written.path)
    page = p.page
    assert page.inner_text("#score") == "100" and page.inner_text("#verdict").lower() == "passed"
    scorecard_text = page.inner_text("#scorecard")
    for r in _rules(view):
        assert r["rule_id"] in scorecard_text and r["title"] in scorecard_text
        assert page.locator(f"#rule-{r['rule_id']}").is_visible()
    assert page.locator("svg.timeline").count() == 1
    assert page.locator("svg.timeline .turn-bar").count() == len(view["turns"])
    assert page.locator("svg.timeline .silence").count() == 1 and page.locator("svg.timeline .overlap").count() == 1
    assert page.locator("svg.timeline .pii").count() == 2
    page.wait_for_function("document.getElementById('call-audio').readyState >= 1", timeout=10_000)
    assert page.evaluate("document.getElementById('call-audio').duration") == pytest.approx(view["duration_s"], abs=0.1)
    shot = tmp_path / "evaluation.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000

    card = page.locator("svg.timeline .pii").first                          # a redacted finding on the timeline
    t = float(card.get_attribute("data-t"))
    card.click()
    _audio_at(page, t)
    page.evaluate("document.getElementById('call-audio').pause()")
    marker = page.locator("svg.timeline .marker.pass").nth(3)              # a rule's evidence
    t = float(marker.get_attribute("data-t"))
    assert t > 1.0
    marker.click()
    _audio_at(page, t)
    page.evaluate("document.getElementById('call-audio').pause()")
    turn = view["turns"][5]
    page.locator(f"#turn-{turn['index']} button.t").click()                # a transcript time
    _audio_at(page, turn["start"])
    assert "current" in page.get_attribute(f"#turn-{turn['index']}", "class")
    page.evaluate("document.getElementById('call-audio').pause()")
    evidence_button = page.locator("#rule-hold_announcement .evidence button.t").first
    t = float(evidence_button.get_attribute("data-t"))
    evidence_button.click()
    _audio_at(page, t)
    assert p.errors == []


@pytest.mark.slow
def test_page_without_audio_and_with_hostile_text_in_chromium(browser, db, tmp_path):
    with Store(db.path).connect_read() as con:
        written = write_evaluation_page(con, rh.BAD[:6], db.path, tmp_path / "bad.html")
    p = Page(browser, written.path)
    page = p.page
    assert page.locator("audio").count() == 0
    assert "No redacted recording is stored" in page.inner_text("#audio-note")
    assert page.inner_text("#verdict").lower() == "auto-failed" and page.inner_text("#score") == "0"
    assert page.locator("#rule-card_read_back.critical-fail").is_visible()
    assert rh.HOSTILE_QUEUE in page.inner_text("header")                   # shown as text, never run
    assert page.evaluate("document.scripts.length") == 1
    page.locator("#turn-2 button.t").click()                               # times still work: the turn is marked
    assert "current" in page.get_attribute("#turn-2", "class")
    page.screenshot(path=str(tmp_path / "bad.png"), full_page=True)
    assert p.errors == []


@pytest.mark.slow
def test_agent_page_in_chromium(browser, db, tmp_path):
    with Store(db.path).connect_read() as con:
        pages = write_agent_page(con, rh.AGENT, db.path, out=tmp_path / "agent.html", with_calls=True)
    p = Page(browser, pages[0].path)
    page = p.page
    assert page.inner_text("#mean-score") == "66.7" and page.inner_text("#pass-rate") == "67%"
    assert page.inner_text("#auto-fails") == "1" and page.inner_text("#calls-scored") == "3"
    assert page.locator("#trends svg.chart").count() == 3 and page.locator("#trends svg.chart circle.dot").count() == 9
    assert "card_read_back" in page.inner_text("#failed-rules")
    assert rh.LATER[:12] in page.inner_text("#best-call") and rh.BAD[:12] in page.inner_text("#worst-calls")
    page.screenshot(path=str(tmp_path / "agent.png"), full_page=True)
    page.locator(f"#worst-calls a[href='report-{rh.BAD[:12]}.html']").click()   # the link opens the call's page
    page.wait_for_load_state("load")
    assert page.url.endswith(f"report-{rh.BAD[:12]}.html") and page.inner_text("#verdict").lower() == "auto-failed"
    assert p.errors == []
