"""Unit tests of the unknown_settings lookup (plugins/lookup/unknown_settings.py), over the
collection's own files."""

from pathlib import Path

from ansible_collections.mecove.platform.plugins.lookup import unknown_settings as lookup

REPO = Path(__file__).resolve().parents[4]
PREFIXES = lookup.prefixes()
KNOWN = lookup.known_names(lookup.COLLECTION_ROOT, PREFIXES)


def unknown(*names):
    return lookup.unknown_settings(names, KNOWN, PREFIXES)


def test_the_prefixes_are_mecove_and_each_role_s_name():
    assert PREFIXES[0] == "mecove_"
    assert {"app_deploy_", "redis_", "pm2_app_", "swap_"} <= set(PREFIXES)
    assert len(PREFIXES) == 1 + len([p for p in (REPO / "roles").iterdir() if p.is_dir()])


def test_a_misspelt_setting_is_named_with_the_setting_it_resembles():
    assert unknown("mecove_ec2_instnce_type", "app_deploy_reff", "mecove_domain") == [
        "app_deploy_reff (did you mean app_deploy_ref?)",
        "mecove_ec2_instnce_type (did you mean mecove_ec2_instance_type?)",
    ]


def test_a_name_close_to_nothing_is_named_alone():
    assert unknown("mecove_colour_scheme") == ["mecove_colour_scheme"]


def test_names_outside_the_collection_s_namespaces_are_left_alone():
    assert unknown("ansible_user", "my_mecove_setting", "mecove", "redis", "inventory_hostname") == []


def test_a_role_prefix_inside_a_longer_name_does_not_count():
    # mecove_redis_port is a mecove_ name, not a redis_ one: it is checked as the former.
    assert unknown("mecove_redis_port") == ["mecove_redis_port"]


def test_every_setting_the_repo_s_inventories_give_is_read_somewhere():
    """The shipped inventories never warn: each name they set is one the collection reads."""
    pattern = lookup.name_pattern(PREFIXES)
    given = {name for path in (REPO / "inventories").rglob("*.yml") for name in pattern.findall(path.read_text())}
    assert "mecove_stack_name" in given and "mecove_app_secret_optional_keys" in given
    assert unknown(*given) == []


def test_only_code_counts_not_documentation_nor_this_plugin_s_examples(tmp_path):
    (tmp_path / "roles" / "web" / "defaults").mkdir(parents=True)
    (tmp_path / "roles" / "web" / "defaults" / "main.yml").write_text("web_port: 80\n")
    (tmp_path / "roles" / "web" / "README.md").write_text("web_gone and mecove_gone were removed in 1.2\n")
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "site.yml").write_text("- debug: {msg: '{{ mecove_domain }} {{ mecove_web_x }}'}\n")
    (tmp_path / "plugins").mkdir()
    assert lookup.prefixes(tmp_path) == ("mecove_", "web_")
    assert lookup.known_names(tmp_path) == {"web_port", "mecove_domain", "mecove_web_x"}
    # The plugin's own examples name a typo; it stays unknown.
    assert "mecove_ec2_instnce_type" not in KNOWN
