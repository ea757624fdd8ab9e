"""The shared environment escapes by default; files are written whole or not at all."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from exposure.catalogue import Theme
from reports import render, svg, words


def test_html_templates_and_strings_are_escaped_text_templates_are_not() -> None:
    env = render.environment()
    assert env is render.environment()  # one shared environment
    hostile = "<b>x</b> & 'y'"
    assert env.from_string("{{ v }}").render(v=hostile) == "&lt;b&gt;x&lt;/b&gt; &amp; &#39;y&#39;"
    assert render.autoescape_for("company.html.j2")
    assert render.autoescape_for("warning.html.j2")
    assert render.autoescape_for("anything-else.j2")
    assert not render.autoescape_for("warning.txt.j2")
    assert not render.autoescape_for("message.eml.j2")


def test_undefined_names_fail_loudly() -> None:
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        render.environment().from_string("{{ missing }}").render()


def test_t_speaks_the_page_language_and_escapes_values() -> None:
    env = render.environment()
    template = env.from_string('{{ t("confidential", name=n) }}')
    assert template.render(lang="en", n="<i>A</i>") == (
        "Confidential: this report is only for &lt;i&gt;A&lt;/i&gt;."
    )
    assert template.render(lang="nl", n="B").startswith("Vertrouwelijk")


def test_dates_and_numbers_are_written_as_people_write_them() -> None:
    env = render.environment()
    at = datetime(2026, 3, 2, 2, 5)
    assert env.from_string("{{ d | date }}").render(lang="nl", d=at) == "2 maart 2026"
    assert env.from_string("{{ d | date }}").render(lang="en", d=at) == "2 March 2026"
    assert env.from_string("{{ v | number(1) }}").render(lang="nl", v=63.75) == "63,8"
    assert env.from_string("{{ v | number(1) }}").render(lang="en", v=63.75) == "63.8"
    assert env.from_string("{{ v | number }}").render(lang="nl", v=None) == "–"


def test_every_ui_sentence_exists_in_both_languages() -> None:
    for key, text in words.UI.items():
        assert text.complete(), key
    for theme in Theme:
        assert words.THEME_TITLE[theme].complete() and words.THEME_INTRO[theme].complete()
    assert set(words.THEME_ORDER) == set(Theme)


def test_language_choice() -> None:
    assert render.language_for("en", "nl", "nl") == "en"
    assert render.language_for(None, "en", "nl") == "en"
    assert render.language_for(None, "", "en") == "en"
    assert render.language_for(None, "de", "nl") == "nl"  # unknown: the next in line


def test_write_atomic_replaces_whole_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    render.write_atomic(target, "first")
    render.write_atomic(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_write_atomic_keeps_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")

    def broken(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(render.os, "fsync", broken)
    with pytest.raises(OSError):
        render.write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_charts_stretch_without_shrinking_their_text() -> None:
    chart = str(svg.hbars([svg.Bar("a", 50), svg.Bar("b", 100)], "t", maximum=100))
    assert 'width="100%"' in chart and "viewBox" not in chart
    assert 'width="43.00%"' in chart and 'width="86.00%"' in chart
    assert str(svg.hbars([], "t")) == "" and str(svg.line([], "t")) == ""
    line = str(svg.line([svg.Point("1", None), svg.Point("2", 50), svg.Point("3", 60)], "t"))
    assert line.count("<circle") == 2  # a missing value is a gap, not a zero
