"""Saving the theme `t` switches to: a file that cannot be written says so, two quick
switches save the last one, and a symlinked config.toml is written through its link."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.console import SIZE, console, plain, replayed, until


async def test_a_theme_that_cannot_be_saved_says_so(tape: Path, tmp_path: Path) -> None:
    # The config dir cannot be created (a file sits where the directory should be):
    # the user must hear the choice was not saved, not find out on the next start.
    blocker = tmp_path / "polyterm"
    blocker.write_text("not a directory")
    config = blocker / "config.toml"
    app = console(tape, tmp_path, config_path=config)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        await pilot.press("t")
        assert app.theme == "polyterm-light"
        await until(pilot, lambda: not any(w.group == "config" for w in app.workers))
        await pilot.pause()
        await until(pilot, lambda: any(n.title == "Theme not saved" for n in app.notices.shown))
        assert "Theme not saved" in plain(app.screen.query_one("#notice"))


async def test_switching_theme_twice_quickly_saves_the_last_choice(
    tape: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow disk (a network home directory): the first save is still writing when the
    # user presses t again. config.toml must end up with the theme on screen.
    import threading

    import polyterm.tui.app as app_module
    from polyterm.settings.config import load_config, save_theme

    first_may_finish = threading.Event()
    calls: list[str] = []
    done: list[str] = []

    def slow_save(path: Path, name: str) -> None:
        calls.append(name)
        if len(calls) == 1:
            first_may_finish.wait(10)
        save_theme(path, name)
        done.append(name)

    monkeypatch.setattr(app_module, "save_theme", slow_save)
    config = tmp_path / "config.toml"
    config.write_text("# mine\n")
    app = console(tape, tmp_path, config_path=config)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        await pilot.press("t")
        await until(pilot, lambda: len(calls) == 1)
        await pilot.press("t")
        assert app.theme == "polyterm-dark"
        first_may_finish.set()

        def saved() -> str:
            return load_config(config, env={}).console.theme

        try:
            await until(pilot, lambda: len(done) == len(calls) and saved() == app.theme, within=10)
        except TimeoutError:
            pytest.fail(f"config.toml says {saved()} while the console shows {app.theme}")


async def test_saving_the_theme_writes_through_a_symlinked_config(
    tape: Path, tmp_path: Path
) -> None:
    # config.toml kept in a dotfiles repository and linked into ~/.config/polyterm: the
    # theme belongs in the user's file, not in a new file that replaces the link.
    dotfiles = tmp_path / "dotfiles" / "polyterm.toml"
    dotfiles.parent.mkdir()
    dotfiles.write_text("# tracked in git\noffline = true\n")
    config = tmp_path / "config.toml"
    config.symlink_to(dotfiles)
    app = console(tape, tmp_path, config_path=config)
    async with app.run_test(size=SIZE) as pilot:
        await replayed(pilot)
        await pilot.press("t")
        await until(pilot, lambda: "polyterm-light" in config.read_text())
    assert config.is_symlink(), "the link was replaced by a plain file"
    assert "polyterm-light" in dotfiles.read_text()
