"""The gateway config: shorthands, defaults, and errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from satisfice.errors import ConfigError
from satisfice.gateway.routes.config import load_config, parse_config

GOOD = """\
upstreams:
  - name: local
    base_url: http://127.0.0.1:8000/v1/
    api_key_env: LOCAL_KEY
    models: [small, big]
    prices: {small: {input_per_m: 0.1, output_per_m: 0.2}}
  - name: backup
    base_url: https://example.invalid/v1
    models: {small: provider-small}
    price: {input_per_m: 1, output_per_m: 2}
models:
  small: [local, backup]
  big: {upstreams: [local], fallbacks: [small]}
routes:
  sentiment:
    chain: [small, big]
    verifiers:
      - non_empty
      - {regex: "^(positive|negative)$"}
      - {max_length: 20}
      - {json: true}
      - {custom: "mymod:check"}
    shadow: {share: 0.1, reference: big}
"""


def test_good_config_with_shorthands() -> None:
    cfg = parse_config(GOOD, file="gw.yaml")
    assert cfg.auth is True and cfg.limits.max_body_bytes == 1024 * 1024
    local, backup = cfg.upstreams
    assert local.base_url == "http://127.0.0.1:8000/v1"
    assert local.models == {"small": None, "big": None} and backup.provider_model("small") == "provider-small"
    assert backup.price_of("small") is not None and local.price_of("big") is None
    assert cfg.models["small"].upstreams == ["local", "backup"] and cfg.models["big"].fallbacks == ["small"]
    route = cfg.routes["task/sentiment"]  # the task/ prefix is added
    assert [v.kind for v in route.verifiers] == ["non_empty", "regex", "max_length", "json", "custom"]
    assert route.verifiers[1].options == {"pattern": "^(positive|negative)$"}
    assert route.verifiers[2].parsed().max_chars == 20
    assert route.shadow is not None and route.shadow.threshold == 0.9


@pytest.mark.parametrize(("text", "line", "field", "message"), [
    ("upstreams:\n  - name: a\n    base_url: ftp://x\n", 3, "upstreams[0].base_url", "http://"),
    ("upstreams:\n  - name: a\n    base_url: http://x\n    timeout_s: -1\n", 4, "upstreams[0].timeout_s", "greater"),
    ("upstreams:\n  - name: a\n    base_url: http://x\n    colour: red\n", 4, "upstreams[0].colour",
     "unknown field 'colour' (known: name, base_url"),
    ("upstreams: []\n", 1, "upstreams", "at least 1"),
    ("upstreams:\n  - {name: a, base_url: 'http://x', models: [m]}\nroutes:\n  t:\n    chain: [m]\n"
     "    verifiers:\n      - {regex: '('}\n", 7, "routes.t.verifiers[0]", "invalid regex"),
    ("upstreams:\n  - {name: a, base_url: 'http://x', models: [m]}\nroutes:\n  t:\n    verifiers:\n"
     "      - {shout: 1}\n", 6, "routes.t.verifiers[0]", "unknown verifier 'shout'"),
    ("upstreams:\n  - {name: a, base_url: 'http://x', models: [m]}\nroutes:\n  t: {chain: [m], from_eval: t}\n",
     4, "routes.t", "exactly one of"),
    ("upstreams:\n  - {name: a, base_url: 'http://x', models: [m]}\nroutes:\n  t:\n    chain: [m]\n"
     "    shadow: {share: 2}\n", 6, "routes.t.shadow.share", "less than or equal"),
    ("upstreams:\n  - {name: a, base_url: 'http://x', models: [m]}\nroutes:\n  t:\n    chainn: [m]\n", 5,
     "routes.t.chainn", "unknown field 'chainn' (known: chain, from_eval, task_file, verifiers, policy"),
    ("limits:\n  max_body_bytes: 0\nupstreams:\n  - {name: a, base_url: 'http://x'}\n", 2,
     "limits.max_body_bytes", "greater than 0"),
])
def test_errors_name_file_line_and_field(text: str, line: int, field: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(text, file="gw.yaml")
    assert f"gw.yaml, line {line}, field '{field}'" in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize(("text", "message"), [
    ("upstreams:\n  - {name: a, base_url: 'http://x'}\n  - {name: a, base_url: 'http://y'}\n", "unique: a"),
    ("upstreams:\n  - {name: a, base_url: 'http://x'}\nmodels:\n  m: [b]\n", "unknown upstream 'b'"),
    ("upstreams:\n  - {name: a, base_url: 'http://x'}\nroutes:\n  t: {chain: [m]}\n", "not served by any"),
    ("upstreams: [\n", "line 2: invalid YAML"),
    ("- just\n- a list\n", "must be a mapping"),
    ("limits: {max_attempts: 2}\nupstreams:\n  - {name: a, base_url: 'http://x'}\nlimits: {max_attempts: 9}\n",
     "line 4, field 'limits': duplicate key 'limits'"),
])
def test_cross_reference_and_yaml_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="gw.yaml") as err:
        parse_config(text, file="gw.yaml")
    assert message in str(err.value)


def test_load_config_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read gateway config"):
        load_config(tmp_path / "nope.yaml")
    path = tmp_path / "gw.yaml"
    path.write_text(GOOD)
    assert load_config(path).base_dir == tmp_path
