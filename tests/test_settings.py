import re
from pathlib import Path

import pytest

from artlineage.errors import ConfigurationError
from artlineage.settings import VARIABLES, Settings

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_and_parsing():
    assert Settings.from_env({}) == Settings()
    s = Settings.from_env({"ARTLINEAGE_AI_AGENTS": " GPTBot, ,CCBot ", "ARTLINEAGE_PIXELS": "0",
                           "ARTLINEAGE_ANONYMOUS_RATE": "0", "ARTLINEAGE_UPGRADE": "yes", "ARTLINEAGE_DB": "x.db"})
    assert (s.ai_agents, s.pixels, s.anonymous_rate, s.upgrade, s.db) == (("GPTBot", "CCBot"), False, 0, True, "x.db")
    assert Settings.from_env(s.to_env()) == s


@pytest.mark.parametrize("env, message", [
    ({"ARTLINEAGE_ANONYMOUS_RATE": "lots"}, "ARTLINEAGE_ANONYMOUS_RATE='lots': expected a whole number"),
    ({"ARTLINEAGE_INSPECT_PROCESSES": "-2"}, "must not be negative"),
    ({"ARTLINEAGE_PIXELS": "maybe"}, "ARTLINEAGE_PIXELS='maybe': expected 1 or 0"),
])
def test_bad_values_name_their_variable(env, message):
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Settings.from_env(env)


def test_every_variable_used_in_the_source_is_a_setting_and_documented():
    names = {v.name for v in VARIABLES}
    used = set()
    for path in (ROOT / "src" / "artlineage").rglob("*.py"):
        used |= set(re.findall(r"""["'](ARTLINEAGE_[A-Z0-9_]+)["']""", path.read_text()))
    assert used - names == set()
    doc = (ROOT / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"^\| `(ARTLINEAGE_[A-Z0-9_]+)` \|", doc, re.M))
    assert documented == names


def test_ai_agents_come_from_the_settings_at_call_time(monkeypatch):
    from artlineage.signals.web import ai_agents

    monkeypatch.setenv("ARTLINEAGE_AI_AGENTS", "OnlyBot")
    assert ai_agents(own_agent=None) == ("OnlyBot",)
    monkeypatch.delenv("ARTLINEAGE_AI_AGENTS")
    assert "GPTBot" in ai_agents(own_agent=None)


def test_the_library_logs_nothing_unless_asked(capfd):
    import logging
    import subprocess
    import sys

    code = ("import logging, artlineage; log = logging.getLogger('artlineage.pipelines.scan'); "
            "log.warning('should not print'); print(type(logging.getLogger('artlineage').handlers[0]).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (out.stdout.strip(), out.stderr) == ("NullHandler", "")
    assert logging.getLogger("artlineage").handlers[0].__class__ is logging.NullHandler
