"""Secrets never reach the output, even at -vvv with --diff, nor files other than the 0600 env file."""

from __future__ import annotations

from conftest import APP_ROOT, DB_PASSWORD, SESSION_SECRET, app_env, deploy, served_version


def test_verbose_deploy_output_holds_no_secret(app):
    # A deploy that re-renders the env file (so its diff is shown) and restarts the app.
    run = deploy("v3", "-vvv", "--diff", app_env=app_env(FEATURE_BANNER="on"))
    assert run.rc == 0, run.output[-3000:]
    assert "FEATURE_BANNER" in run.output  # the diff is there ...
    assert DB_PASSWORD not in run.output  # ... without the secrets
    assert SESSION_SECRET not in run.output
    assert "FEATURE_BANNER=on" in app.file(f"{APP_ROOT}/shared/.env").content_string
    assert served_version() == "v3"


def test_no_secret_outside_the_env_file(app):
    found = app.run("grep -rlF -e %s -e %s /etc/systemd/system %s/state %s/releases /tmp /var/log 2>/dev/null",
                    DB_PASSWORD, SESSION_SECRET, APP_ROOT, APP_ROOT)
    assert found.stdout.strip() == ""
    # Command lines are world-readable: the app's processes must not carry a secret there.
    command_lines = app.run("for p in $(pgrep -u nekomorto); do tr '\\0' ' ' </proc/$p/cmdline; echo; done").stdout
    assert command_lines.strip()
    assert DB_PASSWORD not in command_lines and SESSION_SECRET not in command_lines


def test_restoring_the_environment(app):
    run = deploy("v3")
    assert run.rc == 0, run.output[-3000:]
    assert "FEATURE_BANNER" not in app.file(f"{APP_ROOT}/shared/.env").content_string
