"""`sqlprovider stack build|test|teardown|plan`: stackql-deploy stacks, the shipped example against the sandbox,
exact requests, safe values, secrets never shown, several workspaces at once."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import requests
import yaml

import sqlprovider
from sqlprovider.cli import main as cli
from sqlprovider.stacks import anchors, manifest, templates
from sqlprovider.stacks.manifest import ManifestError
from sqlprovider.stacks.runner import Stack

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "stacks" / "registry-webhooks"
SECRET = "whsec-7f3a9c21"
LIST = ("GET", "list", (("model_name", "churn-model"), ("max_results", "1000")), None)
DESCRIPTION = "registry-webhooks (dev): new and promoted versions of churn-model"
EVENTS = ["MODEL_VERSION_CREATED", "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"]
SPEC = {"url": "https://hooks.example.com/registry-webhooks/dev", "enable_ssl_verification": True}
#: The seed's Manifest tab (shared/reference/seed-model_registry_webhooks.md), with StackQL's indentation.
SEED_MANIFEST = (EXAMPLE / "stackql_manifest.yml").read_text().split("resources:\n", 1)[1].split("  exports:")[0]


def stack(capsys, *args: str) -> tuple[int, str, str]:
    """Run `sqlprovider stack ARGS` in-process: (exit code, stdout, stderr)."""
    code = cli.main(["stack", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def example(capsys, command: str, *extra: str) -> tuple[int, str, str]:
    return stack(capsys, command, str(EXAMPLE), "dev", "-e", f"WEBHOOK_SECRET={SECRET}", *extra)


# --- the shipped example, against the sandbox ------------------------------------------------------------
def test_example_builds_rebuilds_without_writes_repairs_drift_and_tears_down(sandbox_deployment, capsys, tmp_path):
    api = sandbox_deployment
    out_file = tmp_path / "out.json"
    assert example(capsys, "build", "--output-file", str(out_file)) == (0, (
        "model_registry_webhooks: created\n"
        "build registry-webhooks (dev): 1 created, 0 updated, 0 unchanged; 3 requests sent, 1 write\n"), "")
    create = {"model_name": "churn-model", "description": DESCRIPTION, "events": EVENTS,
              "http_url_spec": {**SPEC, "secret": SECRET}, "status": "ACTIVE"}
    assert api.calls() == [LIST, ("POST", "create", (), create), LIST]  # RETURNING webhook gave this.id
    (hook,) = api.list()
    assert (hook["events"], hook["description"], hook["http_url_spec"]) == (EVENTS, DESCRIPTION, SPEC)
    assert json.loads(out_file.read_text()) == {"stack_name": "registry-webhooks", "stack_env": "dev",
                                                "webhook_id": hook["id"]}

    api.reset()
    assert example(capsys, "build") == (0, (
        "model_registry_webhooks: no change\n"
        "build registry-webhooks (dev): 0 created, 0 updated, 1 unchanged; 2 requests sent, 0 writes\n"), "")
    assert api.calls() == [LIST, LIST]  # exists, statecheck: no write at all

    requests.patch(api.base + "update", json={"id": hook["id"], "status": "DISABLED"}, headers=api.headers,
                   timeout=10).raise_for_status()  # changed out of band
    api.reset()
    assert example(capsys, "test") == (1, (
        "model_registry_webhooks: failed\n"
        "test registry-webhooks (dev): 0 in the desired state, 1 failed; 2 requests sent, 0 writes\n"),
        "sqlprovider: error: model_registry_webhooks: not in the desired state (statecheck: count is not 1): "
        "run build to update it\n")
    assert api.calls() == [LIST, LIST]

    api.reset()
    assert example(capsys, "build")[:2] == (0, (
        "model_registry_webhooks: updated\n"
        "build registry-webhooks (dev): 0 created, 1 updated, 0 unchanged; 4 requests sent, 1 write\n"))
    update = {"id": hook["id"], "description": DESCRIPTION, "events": EVENTS,
              "http_url_spec": {**SPEC, "secret": SECRET}, "status": "ACTIVE"}
    assert api.calls() == [LIST, LIST, ("PATCH", "update", (), update), LIST]  # one keyed update, no listing
    assert api.list()[0]["status"] == "ACTIVE"
    assert example(capsys, "test")[0] == 0

    api.reset()
    assert example(capsys, "teardown") == (0, (
        "model_registry_webhooks: deleted\n"
        "teardown registry-webhooks (dev): 1 deleted, 0 not found; 3 requests sent, 1 write\n"), "")
    assert api.calls() == [LIST, ("DELETE", "delete", (("id", hook["id"]),), None), LIST]
    assert api.list() == []
    assert example(capsys, "teardown")[1].startswith("model_registry_webhooks: not found\n")


def test_plan_shows_each_action_and_the_requests_a_build_would_send_secrets_masked(sandbox_deployment, capsys):
    api = sandbox_deployment
    code, out, err = example(capsys, "plan")
    body = {"model_name": "churn-model", "description": DESCRIPTION, "events": EVENTS,
            "http_url_spec": {**SPEC, "secret": "***"}, "status": "ACTIVE"}
    assert (code, err) == (0, "")
    assert out == ("model_registry_webhooks: create\n"
                   "  would send: sandbox POST /api/2.0/mlflow/registry-webhooks/create "
                   + json.dumps(body, separators=(",", ":")) + "\n"
                   "plan registry-webhooks (dev): 1 to create, 0 to update, 0 unchanged; "
                   "1 request sent, 0 writes, 1 held back\n")
    assert [c[0] for c in api.calls()] == ["GET"] and api.list() == []

    assert example(capsys, "build")[0] == 0
    assert example(capsys, "plan")[1] == ("model_registry_webhooks: no change\n"
                                          "plan registry-webhooks (dev): 0 to create, 0 to update, 1 unchanged; "
                                          "2 requests sent, 0 writes, 0 held back\n")
    (hook,) = api.list()
    requests.patch(api.base + "update", json={"id": hook["id"], "description": "edited by hand"},
                   headers=api.headers, timeout=10).raise_for_status()
    api.reset()
    code, out, _ = example(capsys, "plan")
    update = {"id": hook["id"], "description": DESCRIPTION, "events": EVENTS,
              "http_url_spec": {**SPEC, "secret": "***"}, "status": "ACTIVE"}
    assert out.splitlines()[:2] == ["model_registry_webhooks: update",
                                    "  would send: sandbox PATCH /api/2.0/mlflow/registry-webhooks/update "
                                    + json.dumps(update, separators=(",", ":"))]
    assert [c[0] for c in api.calls()] == ["GET", "GET"] and api.list()[0]["description"] == "edited by hand"
    assert example(capsys, "build", "--dry-run")[1].splitlines()[0] == "model_registry_webhooks: update"
    assert api.list()[0]["description"] == "edited by hand"


def test_prd_plans_against_the_named_workspace(prod, capsys):
    code, out, _ = stack(capsys, "plan", str(EXAMPLE), "prd", "-e", f"WEBHOOK_SECRET={SECRET}")
    assert code == 0
    assert out.splitlines()[1].startswith("  would send: prod POST /api/2.0/mlflow/registry-webhooks/create "
                                          '{"model_name":"churn-model","description":"registry-webhooks (prd): ')
    assert [(method, path.split("?")[0]) for method, path, _, _ in prod.requests] == [
        ("GET", "/api/2.0/mlflow/registry-webhooks/list")]


def test_secrets_never_appear_in_any_output(sandbox_deployment, capsys, tmp_path):
    out_file = tmp_path / "out.json"
    shown = "".join(example(capsys, command, "--show-queries", "--output-file", str(out_file))[1]
                    + example(capsys, command, "--show-queries")[2] for command in ("plan", "build", "test"))
    shown += out_file.read_text()
    assert "-- model_registry_webhooks: create\nINSERT INTO" in shown  # the queries were shown...
    assert '"secret":"***"' in shown and SECRET not in shown  # ...masked
    created = [body for method, _, _, body in sandbox_deployment.calls() if method == "POST"]
    assert created[0]["http_url_spec"]["secret"] == SECRET  # sent as given


def test_a_changed_secret_is_not_drift_statecheck_cannot_see_write_only_fields(sandbox_deployment, capsys):
    assert example(capsys, "build")[0] == 0
    sandbox_deployment.reset()
    code, out, _ = stack(capsys, "build", str(EXAMPLE), "dev", "-e", "WEBHOOK_SECRET=rotated-secret-2")
    assert (code, out.splitlines()[0]) == (0, "model_registry_webhooks: no change")
    assert [c[0] for c in sandbox_deployment.calls()] == ["GET", "GET"]


# --- values reach SQL safely -----------------------------------------------------------------------------
IQL = """/*+ exists */
SELECT id FROM model_registry_webhooks WHERE deployment_name = '{{ deployment_name }}' AND model_name = '{{ model }}'

/*+ statecheck */
SELECT count(*) AS count FROM model_registry_webhooks
WHERE deployment_name = '{{ deployment_name }}' AND id = '{{ this.id }}' AND description = '{{ text%s }}'

/*+ create */
INSERT INTO model_registry_webhooks (deployment_name, model_name, events, description, http_url_spec)
SELECT '{{ deployment_name }}', '{{ model }}', '["MODEL_VERSION_CREATED"]', '{{ text%s }}',
       '{"url": "https://example.com/{{ model }}"}'

/*+ delete */
DELETE FROM model_registry_webhooks WHERE deployment_name = '{{ deployment_name }}' AND id = '{{ this.id }}'
"""


def write_stack(root: Path, props: str, iql: str, name: str = "hook", extra: str = "") -> Path:
    (root / "resources").mkdir(parents=True, exist_ok=True)
    (root / "stackql_manifest.yml").write_text(f"name: s\nresources:\n  - name: {name}\n    props:\n{props}{extra}")
    (root / "resources" / f"{name}.iql").write_text(iql)
    return root


@pytest.mark.parametrize("escape", ["", " | sql_escape"])
@pytest.mark.parametrize("text", ["it's", "x'); DELETE FROM model_registry_webhooks; --", "a '' b \\' {{ c }}"])
def test_quotes_and_injections_are_stored_exactly_as_given(sandbox_deployment, capsys, tmp_path, text, escape):
    root = write_stack(tmp_path / "s", "      - name: deployment_name\n        value: sandbox\n"
                                       "      - name: model\n        value: m-1\n"
                                       "      - name: text\n        value: '{{ TEXT }}'\n", IQL % (escape, escape))
    sandbox_deployment.create(model_name="bystander")
    code, out, err = stack(capsys, "build", str(root), "dev", "-e", f"TEXT={text}")
    assert (code, err, out.splitlines()[0]) == (0, "", "hook: created")
    assert sorted((h["model_name"], h.get("description")) for h in sandbox_deployment.list()) == [
        ("bystander", None), ("m-1", text)]
    assert stack(capsys, "build", str(root), "dev", "-e", f"TEXT={text}")[1].splitlines()[0] == "hook: no change"


@pytest.mark.parametrize("template, context, expected", [
    ("WHERE a = '{{ v }}'", {"v": "it's"}, "WHERE a = 'it''s'"),
    ("WHERE a = '{{ v | sql_escape }}'", {"v": "it's"}, "WHERE a = 'it''s'"),  # escaped once, not twice
    ("WHERE a = {{ v }}", {"v": "x'; DROP TABLE t; --"}, "WHERE a = 'x''; DROP TABLE t; --'"),
    ("LIMIT {{ n }}", {"n": 10}, "LIMIT 10"),
    ("WHERE a = {{ v }} AND b = {{ w }}", {"v": None, "w": True}, "WHERE a = NULL AND b = TRUE"),
    ("SELECT \"{{ v }}\"", {"v": 'a"b'}, 'SELECT "a""b"'),
    ("SELECT 1 -- {{ v }}\n", {"v": "x\nDELETE FROM t"}, "SELECT 1 -- x DELETE FROM t\n"),
    ("SELECT 1 /* {{ v }} */", {"v": "*/ DELETE FROM t /*"}, "SELECT 1 /* * / DELETE FROM t /* */"),
    ("WHERE id IN {{ ids | sql_list }}", {"ids": ["a", "b'c"]}, "WHERE id IN ('a','b''c')"),
    ("WHERE id IN {{ ids | sql_list }}", {"ids": []}, "WHERE id IN (NULL)"),
    ("SET s = '{{ spec }}'", {"spec": {"url": "u", "n": 1, "ok": False, "q": "it's"}},
     """SET s = '{"url":"u","n":1,"ok":false,"q":"it''s"}'"""),
    ("SET s = '{{ spec | tojson }}'", {"spec": ["<a>", "'"]}, """SET s = '["<a>","''"]'"""),
    ("WHERE a = 'x''{{ v }}'", {"v": "'"}, "WHERE a = 'x'''''"),
    ("WHERE a = '{{ v }}' AND b = {{ w }}", {"v": "--", "w": "--"}, "WHERE a = '--' AND b = '--'"),
])
def test_render_sql_quotes_each_value_for_where_it_stands(template, context, expected):
    env = templates.environment(strict=True)
    assert templates.render_sql(env, template, context, "t.iql") == expected


def test_render_sql_refuses_what_cannot_be_quoted_and_names_undefined_variables():
    env = templates.environment(strict=True)
    with pytest.raises(sqlprovider.ProgrammingError, match=r"^t.iql: a value with '\]' cannot stand inside"):
        templates.render_sql(env, "SELECT [{{ v }}]", {"v": "a]b"}, "t.iql")
    with pytest.raises(sqlprovider.ProgrammingError, match="^t.iql: 'nope' is undefined: define it"):
        templates.render_sql(env, "SELECT '{{ nope }}'", {}, "t.iql")


def test_the_filters_mean_what_they_mean_in_stackql_deploy():
    env = templates.environment(strict=True)

    def render(text: str, **context) -> str:
        return templates.render_sql(env, text, context, "t")

    assert render("'{{ v | from_json | length }}'", v='["a", "b"]') == "'2'"
    assert render("'{{ v | base64_encode }}'", v="hi") == "'aGk='"
    assert render("'{{ a | merge_lists(b) }}'", a=["x", "y"], b='["y", "z"]') == """'["x","y","z"]'"""
    assert render("'{{ a | merge_objects(b) }}'", a={"k": 1, "j": 2}, b={"k": 3}) == """'{"k":3,"j":2}'"""
    assert len(render("'{{ uuid() }}'")) == 38


# --- the manifest ----------------------------------------------------------------------------------------
def test_the_seeds_manifest_loads_as_it_stands():
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(SEED_MANIFEST)  # a YAML loader alone cannot: `{{ ... }}` unquoted starts a flow mapping
    assert SEED_MANIFEST.startswith("# Description fields are for documentation purposes\n"
                                    "- name: model_registry_webhooks\n  props:\n")
    (resource,) = manifest.loads(SEED_MANIFEST)
    props = {p["name"]: p["value"] for p in resource["props"]}
    assert list(props) == ["deployment_name", "events", "description", "http_url_spec", "job_spec", "model_name",
                           "status"]
    assert props["http_url_spec"] == {"url": "{{ url }}", "authorization": "{{ authorization }}",
                                      "enable_ssl_verification": "{{ enable_ssl_verification }}",
                                      "secret": "{{ secret }}"}
    assert isinstance(props["http_url_spec"]["enable_ssl_verification"], templates.Bare)
    assert not isinstance(props["http_url_spec"]["url"], templates.Bare)
    assert props["events"] == ["{{ events }}"]


@pytest.mark.parametrize("raw, context, expected", [
    (templates.Bare("{{ v }}"), {"v": "false"}, False),  # bare: typed as YAML types a value written there
    (templates.Bare("{{ v }}"), {"v": "42"}, 42),
    ("{{ v }}", {"v": "42"}, "42"),  # quoted: stays text
    ("{{ v }}", {"v": ["a", "b"]}, ["a", "b"]),  # exactly one placeholder: the value itself
    (["{{ v }}"], {"v": ["a", "b"]}, ["a", "b"]),  # a list item that is a list is spliced in
    (["{{ v }}"], {}, ""),  # nothing left: not given
    ({"job_id": "{{ a }}", "access_token": "{{ b }}"}, {}, ""),  # a spec whose values all render empty
    ({"url": "{{ u }}", "secret": "{{ s }}"}, {"u": "https://x"}, {"url": "https://x"}),
    ("{{ a }}-{{ b }}", {"a": 1, "b": True}, "1-true"),
    ("{{ v | default('d') }}", {}, "d"),
])
def test_prop_values(raw, context, expected):
    assert templates.render_value(templates.environment(strict=False), raw, context, "p") == expected


def test_the_seeds_job_spec_is_not_given_and_its_bare_placeholder_is_typed():
    stack_ = Stack(EXAMPLE, "dev", {"WEBHOOK_SECRET": SECRET})
    context = stack_._base_context()
    (unit,) = stack_._units(stack_.manifest.resources[0], context)
    assert unit.context["job_spec"] == ""
    assert unit.context["http_url_spec"] == {**SPEC, "secret": SECRET}
    assert unit.context["events"] == EVENTS and unit.context["deployment_name"] == "sandbox"


@pytest.mark.parametrize("text, message", [
    ("name: s\nresource: []\n", "unknown key 'resource'; the keys are version, name"),
    ("name: s\nresources: []\n", "resources is empty"),
    ("resources:\n  - name: a\n    props:\n      - name: p\n        values:\n          prd:\n            value: 1\n",
     "a: props[0] (p): no value for environment 'dev'; add values: {dev: {value: ...}} (it has prd)"),
    ("resources:\n  - name: a\n    type: multi\n", "type 'multi' is not supported"),
    ("resources:\n  - name: a\n    exports: [x]\n    protected: [y]\n", "protected 'y' is not one of its exports"),
    ("resources:\n  - name: a\n  - name: a\n", "resource 'a' is listed twice"),
    ("resources: [\n", "not valid YAML (line 2, column 1)"),
])
def test_manifest_mistakes_are_one_line(tmp_path, capsys, text, message):
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "a.iql").write_text("/*+ create */\nSELECT 1\n")
    (tmp_path / "stackql_manifest.yml").write_text(text)
    code, out, err = stack(capsys, "build", str(tmp_path), "dev")
    assert (code, out) == (1, "")
    assert err.startswith("sqlprovider: error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize("text, expected", [
    ("/*+ exists */\nSELECT 1\n/*+ statecheck, retries=5, retry_delay=10 */\nSELECT 2\n",
     {"exists": ("SELECT 1", 1, 0.0), "statecheck": ("SELECT 2", 5, 10.0)}),
    ("-- header\n/*+ preflight, postdelete_retries=3 */ \nSELECT 1;\n/*+ postdeploy */\nSELECT 2",
     {"exists": ("SELECT 1;", 1, 0.0), "statecheck": ("SELECT 2", 1, 0.0)}),
])
def test_anchors(text, expected):
    queries = anchors.parse(text, "f.iql")
    assert {k: (q.template, q.retries, q.retry_delay) for k, q in queries.items()} == expected


@pytest.mark.parametrize("text, message", [
    ("/*+ exist */\nSELECT 1", "f.iql:1: unknown anchor 'exist'"),
    ("/*+ exists, tries=2 */\nSELECT 1", "f.iql:1: unknown option 'tries' of exists"),
    ("/*+ exists, retries=0 */\nSELECT 1", "f.iql:1: retries='0': give a whole number of at least 1"),
    ("/*+ exists */\nSELECT 1\n/*+ exists */\nSELECT 2", "f.iql:3: anchor exists appears twice"),
    ("/*+ create */\n\n/*+ exists */\nSELECT 2", "f.iql:1: anchor create has no query under it"),
])
def test_anchor_mistakes_name_the_file_and_line(text, message):
    with pytest.raises(ManifestError, match="^" + message):
        anchors.parse(text, "f.iql")


# --- several workspaces at once --------------------------------------------------------------------------
FANNED_IQL = IQL % ("", "")


def test_a_prop_giving_several_workspaces_applies_them_concurrently(two_workspaces, capsys, tmp_path):
    ws1, ws2 = two_workspaces
    root = write_stack(tmp_path / "s", "      - name: deployment_name\n        value: [ws1, ws2]\n"
                                       "      - name: model\n        value: m-1\n"
                                       "      - name: text\n        value: fanned out\n", FANNED_IQL)
    barrier = threading.Barrier(2, timeout=20)  # each workspace's first request waits for the other's

    def connect(**options):
        conn = sqlprovider.connect(**options)
        first = []

        def meet(record):
            if not first:
                first.append(record)
                barrier.wait()  # BrokenBarrierError (a failed build) if the workspaces ran one after the other
        conn.requests.observers.append(meet)
        return conn

    report = Stack(root, "dev", connect=connect).build()
    assert [(o.label, o.action, o.failure) for o in report.outcomes] == [
        ("hook[ws1]", "created", None), ("hook[ws2]", "created", None)]
    assert [h["description"] for h in ws1.list() + ws2.list()] == ["fanned out", "fanned out"]

    for api in (ws1, ws2):  # both changed out of band: test names each
        hook = api.list()[0]
        requests.patch(api.base + "update", json={"id": hook["id"], "description": "x"}, headers=api.headers,
                       timeout=10).raise_for_status()
    code, _, err = stack(capsys, "test", str(root), "dev")
    assert code == 1
    assert err == ("sqlprovider: error: hook[ws1]: not in the desired state (statecheck: count is not 1): run build "
                   "to update it\nsqlprovider: error: hook[ws2]: not in the desired state (statecheck: count is not "
                   "1): run build to update it\n")


# --- globals, props, exports, conditions -----------------------------------------------------------------
def test_exports_feed_later_resources_and_protected_ones_are_masked(sandbox_deployment, capsys, tmp_path):
    root = tmp_path / "s"
    (root / "resources").mkdir(parents=True)
    (root / "stackql_manifest.yml").write_text("""name: chain
globals:
  - name: region
    value: "{{ REGION }}"
resources:
  - name: lookup
    type: query
    exports:
      - token_value
      - picked: chosen_model
    protected:
      - token_value
  - name: hook
    if: "stack_env == 'dev'"
    props:
      - name: deployment_name
        value: sandbox
      - name: model
        value: "{{ chosen_model }}-{{ region }}"
      - name: text
        values:
          dev:
            value: "from {{ lookup.chosen_model }}"
  - name: skipped
    if: "stack_env == 'prd'"
""")
    (root / "resources" / "lookup.iql").write_text("/*+ exports */\nSELECT 'tok-123456' AS token_value, 'm' AS picked\n")
    (root / "resources" / "hook.iql").write_text(FANNED_IQL)
    (root / "resources" / "skipped.iql").write_text("/*+ create */\nSELECT 1\n")
    out_file = tmp_path / "out.json"
    code, out, err = stack(capsys, "build", str(root), "dev", "-e", "REGION=eu", "--show-queries",
                           "--output-file", str(out_file))
    assert (code, out.splitlines()) == (0, ["lookup: exported", "hook: created", "skipped: skipped (if)",
                                            "build chain (dev): 1 created, 0 updated, 0 unchanged; "
                                            "4 requests sent, 1 write"])  # no RETURNING: exists runs again
    assert [(h["model_name"], h["description"]) for h in sandbox_deployment.list()] == [("m-eu", "from m")]
    assert "tok-123456" not in err + out_file.read_text()
    assert json.loads(out_file.read_text()) == {"stack_name": "chain", "stack_env": "dev", "token_value": "***",
                                                "chosen_model": "m"}


def test_env_file_and_e_variables(sandbox_deployment, capsys, tmp_path, monkeypatch):
    root = write_stack(tmp_path / "s", "      - name: deployment_name\n        value: sandbox\n"
                                       "      - name: model\n        value: '{{ MODEL }}'\n"
                                       "      - name: text\n        value: '{{ TEXT }}'\n", FANNED_IQL)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("# defaults\nexport MODEL=from-dotenv\nTEXT='quoted # kept'\n")
    monkeypatch.setenv("MODEL", "from-process")
    assert stack(capsys, "build", str(root), "dev")[0] == 0
    (tmp_path / "other.env").write_text("MODEL=from-file\nTEXT=t\n")
    assert stack(capsys, "build", str(root), "dev", "--env-file", "other.env", "-e", "MODEL=from-e")[0] == 0
    assert sorted((h["model_name"], h["description"]) for h in sandbox_deployment.list()) == [
        ("from-dotenv", "quoted # kept"), ("from-e", "t")]
    code, _, err = stack(capsys, "build", str(root), "dev", "--env-file", "missing.env")
    assert (code, err.startswith("sqlprovider: error: --env-file 'missing.env': cannot read it")) == (1, True)
    assert stack(capsys, "build", str(root), "dev", "-e", "NOEQUALS")[2] == (
        "sqlprovider: error: -e 'NOEQUALS': expected NAME=VALUE\n")


def test_a_failing_create_stops_the_build_with_one_line(sandbox_deployment, capsys, tmp_path):
    root = write_stack(tmp_path / "s", "      - name: deployment_name\n        value: sandbox\n"
                                       "      - name: model\n        value: m\n"
                                       "      - name: text\n        value: t\n",
                       FANNED_IQL.replace("'[\"MODEL_VERSION_CREATED\"]'", "'[\"NO_SUCH_EVENT\"]'"),
                       extra="  - name: after\n")
    code, out, err = stack(capsys, "build", str(root), "dev")
    assert (code, out.splitlines()[0]) == (1, "hook: failed")
    assert err.startswith("sqlprovider: error: hook: create failed: events: unknown value 'NO_SUCH_EVENT'")
    assert err.count("\n") == 1 and "after" not in out
    assert [c[0] for c in sandbox_deployment.calls()] == ["GET"]
