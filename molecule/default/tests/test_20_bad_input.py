"""Bad input is refused in preflight, naming the variable and the rule, with the host unchanged."""

from __future__ import annotations

import pytest

import testbed
from conftest import DB_PASSWORD, DB_PORT, app_env, deploy

CASES = [
    pytest.param({"app_env": app_env(DATABASE_URL=None)}, "DATABASE_URL", id="missing-database-url"),
    pytest.param({"app_env": app_env(DATABASE_URL="postgresql://")}, "DATABASE_URL", id="malformed-url"),
    pytest.param({"app_env": app_env(DATABASE_URL=f"mysql://nekomorto_app:{DB_PASSWORD}@127.0.0.1:{DB_PORT}/nekomorto")},
                 "DATABASE_URL", id="wrong-scheme"),
    pytest.param({"app_env": app_env(DATABASE_URL=f"postgresql://nekomorto_app:{DB_PASSWORD}@127.0.0.1:99999/nekomorto")},
                 "DATABASE_URL", id="invalid-port"),
    pytest.param({"app_env": app_env(SESSION_SECRET="")}, "SESSION_SECRET", id="empty-session-secret"),
    pytest.param({"app_env": app_env(SESSION_SECRET="short")}, "SESSION_SECRET", id="short-session-secret"),
    pytest.param({"app_env": app_env(APP_ORIGIN="nekomata.moe")}, "APP_ORIGIN", id="origin-without-scheme"),
    pytest.param({"app_env": app_env(APP_ORIGIN="https://nekomata.moe/path")}, "APP_ORIGIN", id="origin-with-path"),
    pytest.param({"app_env": app_env(APP_ORIGIN="http://nekomata.moe")}, "APP_ORIGIN", id="http-origin-in-production"),
    pytest.param({"app_env": app_env(ADMIN_ORIGINS="admin.nekomata.moe")}, "ADMIN_ORIGINS", id="bad-admin-origins"),
    pytest.param({"app_env": app_env(MAINTENANCE_MODE="maybe")}, "MAINTENANCE_MODE", id="bad-maintenance-word"),
    pytest.param({"app_env": app_env(MAINTENANCE_MODE="On")}, "MAINTENANCE_MODE to On: the maintenance window manages",
                 id="maintenance-switched-on-in-app-env"),
    pytest.param({"app_env": app_env(DATA_SOURCE="json")}, "DATA_SOURCE", id="json-source"),
    pytest.param({"app_env": app_env(DUAL_WRITE_JSON="true")}, "DUAL_WRITE_JSON", id="dual-write"),
    pytest.param({"app_env": app_env(NODE_ENV=None)}, "NODE_ENV", id="missing-node-env"),
    pytest.param({"app_env": app_env(DATABASE_URL=f"postgresql://nekomorto_app:{DB_PASSWORD}@127.0.0.1:1/nekomorto")},
                 "cannot connect", id="unreachable-database"),
    pytest.param({"app_env": app_env(DATABASE_URL=f"postgresql://nekomorto_app:wrong-password@127.0.0.1:{DB_PORT}/nekomorto")},
                 "password authentication failed", id="wrong-database-password"),
    pytest.param({"app_env": app_env(SESSION_TABLE="custom_sessions")}, "SESSION_TABLE", id="missing-session-table"),
    pytest.param({"app_version": "v404"}, "app_version=v404", id="unknown-version"),
    pytest.param({"app_repo": "https://deploy:tok3n-in-url@127.0.0.1:1/app.git"}, "app_repo must not hold",
                 id="token-in-app-repo"),
    # A strategy that cannot run was found at the switch: after the build and the migrations.
    pytest.param({"app_version": "v2", "service_strategy": "bluegreen"}, "value of service_strategy must be one of",
                 id="unknown-strategy"),
    pytest.param({"app_version": "v2", "service_strategy": "blue_green"}, "blue_green needs an edge the collection manages",
                 id="blue-green-without-edge"),
    # The health gate's settings were checked by the health role after the restart; the release's after the lock.
    pytest.param({"app_version": "v2", "health_accepted_statuses": ["ok", "healthy"]},
                 "value of health_accepted_statuses must be one or more of", id="bad-health-status"),
    pytest.param({"app_version": "v2", "service_health_timeout": 0}, "service_health_timeout must be at least 1",
                 id="zero-health-timeout"),
    pytest.param({"app_version": "v2", "release_command_timeout": "30m"}, "release_command_timeout",
                 id="timeout-not-a-number"),
    # Written into the unit's Restart=, which systemd ignores with a warning in its journal.
    pytest.param({"app_version": "v2", "service_restart": "sometimes"}, "value of service_restart must be one of",
                 id="bad-restart-policy"),
    pytest.param({"app_version": "v2", "deploy_serial": "abc"}, "deploy_serial must be", id="bad-deploy-serial"),
    pytest.param({"app_version": "v2", "app_root": "/srv/nekomorto/"}, "app_root an absolute path other than /, without a trailing",
                 id="app-root-trailing-slash"),
    # public, then public/uploads: the second link would replace the shared uploads folder the first leads to.
    pytest.param({"app_version": "v2", "release_shared_links": [{"path": "public", "target": "public"},
                                                                {"path": "public/uploads", "target": "public/uploads"}]},
                 "release_shared_links must not nest: public/uploads lies under public", id="nested-shared-links"),
    pytest.param({"app_version": ""}, "app_version (the tag, branch or commit to deploy", id="empty-version"),
    pytest.param({"app_version": "v2", "nodejs_source": "tarball", "nodejs_version": "18.20.0"}, "nodejs_min_version",
                 id="runtime-older-than-the-minimum"),
    # Found at the download, after the lock; the URL was shown in the output with its password.
    pytest.param({"app_version": "v2", "nodejs_source": "tarball", "nodejs_tarball_sha256": "abc"},
                 "nodejs_tarball_sha256, when given, 64 hex digits", id="malformed-tarball-checksum"),
    pytest.param({"app_version": "v2", "nodejs_source": "tarball",
                  "nodejs_tarball_base_url": "https://mirror:tok3n-in-url@127.0.0.1:1/dist"},
                 "nodejs_tarball_base_url no user or password", id="credentials-in-the-node-mirror-url"),
    # The app's session store reads schema.table as one table name; the app trims its secret.
    pytest.param({"app_env": app_env(SESSION_TABLE="public.user_sessions")}, "SESSION_TABLE: must be a table name",
                 id="schema-qualified-session-table"),
    pytest.param({"app_env": app_env(SESSION_SECRET=" " * 40)}, "SESSION_SECRET: is empty or blank",
                 id="blank-session-secret"),
]


@pytest.mark.parametrize(("overrides", "named"), CASES)
def test_bad_input_fails_before_any_change(app, db, overrides, named):
    before = testbed.app_snapshot(app)
    migrations_before = testbed.psql(db, "SELECT count(*) FROM _prisma_migrations", port=DB_PORT)
    run = deploy(overrides.pop("app_version", "v1"), **overrides)
    assert run.rc != 0, run.output[-2000:]
    assert named in run.output, run.output[-3000:]
    assert testbed.app_snapshot(app) == before
    assert testbed.psql(db, "SELECT count(*) FROM _prisma_migrations", port=DB_PORT) == migrations_before
    # Refused before any app task: no release built, no env rendered, no lock left behind.
    assert "Render the env file" not in run.output.split("fatal:")[0]
    assert not app.file("/srv/nekomorto/state/lock").exists
    assert "wrong-password" not in run.output
    assert "tok3n-in-url" not in run.output


def test_an_app_user_that_logs_in_is_not_taken_over(app, db):
    """The user module made any existing account the app's: home moved to app_root, shell nologin. An operator's
    own account named as app_user lost its login."""
    assert app.run("useradd --create-home --shell /bin/bash legacyops").rc == 0
    try:
        account = app.run("getent passwd legacyops").stdout
        before = testbed.app_snapshot(app)
        run = deploy("v1", app_user="legacyops")
        assert run.rc != 0, run.output[-2000:]
        said = " ".join(run.output.split())
        assert "The account legacyops exists on nekomorto-app1 with the login shell /bin/bash" in said, run.output[-3000:]
        assert "host_adopt_user=true. Nothing was changed." in said
        assert app.run("getent passwd legacyops").stdout == account
        assert testbed.app_snapshot(app) == before
        assert not app.file("/srv/nekomorto/state/lock").exists
    finally:
        app.run("userdel --remove legacyops")
