"""The AWS estate, end to end against the emulator. Tests run in file order on one estate."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
STACK = "mecove-mvp"
TAGS = {"Project": STACK, "Environment": "mvp", "ManagedBy": "ansible-mecove-platform"}
TAG_FILTERS = [{"Name": f"tag:{k}", "Values": [v]} for k, v in TAGS.items()]
LIVE_INSTANCE_STATES = ["pending", "running", "stopping", "stopped", "shutting-down"]


def tags_of(items) -> dict:
    return {t["Key"]: t["Value"] for t in items or []}


def assert_ours(tag_list) -> None:
    tags = tags_of(tag_list) if isinstance(tag_list, list) else tag_list
    assert {k: tags.get(k) for k in TAGS} == TAGS


def tagged_leftovers(emulator) -> list[str]:
    """Everything still carrying the stack's tags (terminated instances excepted), IAM included."""
    left = []
    tagging = emulator.client("resourcegroupstaggingapi")
    for mapping in tagging.get_resources(TagFilters=[{"Key": k, "Values": [v]} for k, v in TAGS.items()])[
        "ResourceTagMappingList"
    ]:
        arn = mapping["ResourceARN"]
        if ":instance/" in arn:
            instance_id = arn.rsplit("/", 1)[1]
            state = emulator.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0][
                "State"
            ]["Name"]
            if state == "terminated":
                continue
        left.append(arn)
    ec2 = emulator.client("ec2")
    left += [v["VpcId"] for v in ec2.describe_vpcs(Filters=TAG_FILTERS)["Vpcs"]]
    left += [a["AllocationId"] for a in ec2.describe_addresses(Filters=TAG_FILTERS)["Addresses"]]
    left += [k["KeyName"] for k in ec2.describe_key_pairs(Filters=TAG_FILTERS)["KeyPairs"]]
    iam = emulator.client("iam")
    left += [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(STACK)]
    left += [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
             if p["InstanceProfileName"].startswith(STACK)]
    left += [g["logGroupName"] for g in emulator.client("logs").describe_log_groups(logGroupNamePrefix=f"/ec2/{STACK}")["logGroups"]]
    left += [s["Name"] for s in emulator.client("secretsmanager").list_secrets()["SecretList"]]
    left += [d["DBInstanceIdentifier"] for d in emulator.client("rds").describe_db_instances()["DBInstances"]]
    left += [g["DBSubnetGroupName"] for g in emulator.client("rds").describe_db_subnet_groups()["DBSubnetGroups"]]
    return left


def failure_message(run) -> str:
    return run.output


# ---------------------------------------------------------------------------------------------
# On the empty account: bad inputs and check mode change nothing.

BAD_INPUTS = [
    ("empty stack name", "aws_provision.yml", {"mecove_stack_name": ""}, "mecove_stack_name"),
    ("invalid stack name", "aws_provision.yml", {"mecove_stack_name": "Mecove_MVP"}, "mecove_stack_name"),
    ("malformed VPC CIDR", "aws_provision.yml", {"mecove_vpc_cidr": "10.0.0.0/33"}, "mecove_vpc_cidr"),
    ("VPC CIDR with host bits", "aws_provision.yml", {"mecove_vpc_cidr": "10.0.0.1/16"}, "mecove_vpc_cidr"),
    ("malformed subnet CIDR", "aws_provision.yml", {"mecove_public_subnet_cidrs": ["10.0.0.0/24", "10.0.1.300/24"]},
     "mecove_public_subnet_cidrs has malformed entries"),
    ("overlapping subnets", "aws_provision.yml", {"mecove_public_subnet_cidrs": ["10.0.0.0/24", "10.0.0.128/25"]},
     "mecove_public_subnet_cidrs overlap: 10.0.0.0/24 overlaps 10.0.0.128/25"),
    ("subnet outside the VPC", "aws_provision.yml", {"mecove_public_subnet_cidrs": ["10.0.0.0/24", "10.1.0.0/24"]},
     "lie outside mecove_vpc_cidr"),
    ("x86 instance type for an arm64 AMI", "aws_provision.yml", {"mecove_ec2_instance_type": "t3.small"},
     "mecove_ec2_instance_type='t3.small' is not a Graviton"),
    ("x86 DB class", "aws_provision.yml", {"mecove_rds_instance_class": "db.t3.micro"},
     "mecove_rds_instance_class='db.t3.micro' is not a Graviton"),
    ("SSH from anywhere without opt-in", "aws_provision.yml", {"mecove_ssh_allowed_cidrs": ["203.0.113.7/32", "0.0.0.0/0"]},
     "mecove_ssh_allow_from_anywhere=true"),
    ("SSH from anywhere (IPv6) without opt-in", "aws_provision.yml", {"mecove_ssh_allowed_cidrs": ["::/0"]},
     "mecove_ssh_allow_from_anywhere=true"),
    ("malformed SSH CIDR", "aws_provision.yml", {"mecove_ssh_allowed_cidrs": ["203.0.113.7"]}, "mecove_ssh_allowed_cidrs"),
    ("SSH connection while SSH is closed", "aws_provision.yml", {"mecove_app_connection": "ssh"},
     "or ssh together with mecove_ssh_allowed_cidrs"),
    ("unknown connection", "aws_provision.yml", {"mecove_app_connection": "telnet"}, "mecove_app_connection='telnet'"),
    ("SSM command timeout below the plugin's own", "aws_provision.yml", {"mecove_ssm_command_timeout": 30},
     "mecove_ssm_command_timeout must be a whole number of seconds from 60 to 3600"),
    ("SSM command timeout that is not a number", "aws_provision.yml", {"mecove_ssm_command_timeout": "20m"},
     "mecove_ssm_command_timeout must be a whole number of seconds from 60 to 3600"),
    ("SSM agent wait that is not a number", "aws_provision.yml", {"mecove_ssm_online_timeout": "soon"},
     "mecove_ssm_online_timeout a whole number of seconds"),
    ("the app's database role is the master", "aws_provision.yml", {"mecove_rds_app_username": "mecove"},
     "must be two different PostgreSQL role names"),
    ("a reserved database role name", "aws_provision.yml", {"mecove_rds_app_username": "rds_app"},
     "must be two different PostgreSQL role names"),
    ("teardown without confirmation", "aws_teardown.yml", {}, "-e confirm=mecove-mvp"),
    ("teardown's confirmation names the snapshot and how to keep none", "aws_teardown.yml", {},
     "a final snapshot of it is kept (mecove-mvp-final-<time>, billed until you delete it; -e mecove_teardown_final_snapshot=false keeps none)"),
    ("teardown's confirmation says when no snapshot is kept", "aws_teardown.yml", {"mecove_teardown_final_snapshot": False},
     "WITHOUT a final snapshot (mecove_teardown_final_snapshot=false): its data is gone for good"),
    ("a final snapshot setting that is not a boolean", "aws_teardown.yml", {"confirm": "mecove-mvp", "mecove_teardown_final_snapshot": "nope"},
     "mecove_teardown_final_snapshot must be true"),
    ("a log retention the module would delete the log groups for", "aws_provision.yml", {"mecove_log_retention_days": 1096},
     "mecove_log_retention_days one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653 (1096)"),
    ("Multi-AZ that is not a boolean", "aws_provision.yml", {"mecove_rds_multi_az": "sometimes"},
     "mecove_rds_multi_az (sometimes) and mecove_ec2_termination_protection (False) true or false"),
    ("deletion protection that is not a boolean", "aws_provision.yml", {"mecove_rds_deletion_protection": "on please"},
     "mecove_rds_deletion_protection (on please)"),
    ("a backup window that is not a time range", "aws_provision.yml", {"mecove_rds_backup_window": "3am"},
     "mecove_rds_backup_window (3am) must be \"hh24:mi-hh24:mi\" in UTC"),
    ("a backup window under 30 minutes", "aws_provision.yml", {"mecove_rds_backup_window": "20:30-20:50"},
     "mecove_rds_backup_window (20:30-20:50) must be"),
    ("a maintenance window with a capitalised day", "aws_provision.yml", {"mecove_rds_maintenance_window": "Sun:21:30-Sun:22:30"},
     "mecove_rds_maintenance_window (Sun:21:30-Sun:22:30) \"ddd:hh24:mi-ddd:hh24:mi\""),
    ("a maintenance window overlapping the backup window", "aws_provision.yml",
     {"mecove_rds_maintenance_window": "sat:20:45-sat:21:30"}, "not overlapping the backup window"),
    ("teardown with the wrong confirmation", "aws_teardown.yml", {"confirm": "yes"}, "-e confirm=mecove-mvp"),
    ("a root volume larger than gp3 allows", "aws_provision.yml", {"mecove_ec2_root_volume_gb": 20000},
     "mecove_ec2_root_volume_gb 8-16384 (20000)"),
    ("database storage larger than RDS allows", "aws_provision.yml", {"mecove_rds_allocated_storage_gb": 70000},
     "mecove_rds_allocated_storage_gb 20-65536 (70000)"),
    ("an AMI architecture EC2 does not name so", "aws_provision.yml", {"mecove_ec2_ami_architecture": "aarch64"},
     "mecove_ec2_ami_architecture='aarch64' must be arm64 or x86_64"),
    ("a Graviton instance type for an x86_64 AMI", "aws_provision.yml", {"mecove_ec2_ami_architecture": "x86_64"},
     "mecove_ec2_instance_type='t4g.small' is a Graviton (arm64) type but the AMI"),
]


# Refused from what AWS answers (where the region offers the type): reads only, nothing changes.
AWS_BAD_INPUTS = [
    ("an instance type the region does not offer", "aws_provision.yml", {"mecove_ec2_instance_type": "t4g.smal"},
     "mecove_ec2_instance_type='t4g.smal' is offered in no zone of ap-south-1"),
    ("a first zone that does not offer the instance type", "aws_provision.yml",
     {"mecove_ec2_instance_type": "is4gen.medium", "mecove_availability_zones": ["ap-south-1b", "ap-south-1a"]},
     "mecove_ec2_instance_type='is4gen.medium' is not offered in ap-south-1b, the zone of the first public subnet, "
     "where the app host goes. It is offered in ap-south-1a, ap-south-1c"),
]


@pytest.mark.parametrize("case, playbook_name, extra_vars, expected", BAD_INPUTS + AWS_BAD_INPUTS,
                         ids=[c[0] for c in BAD_INPUTS + AWS_BAD_INPUTS])
def test_bad_input_fails_before_any_change(playbook, emulator, case, playbook_name, extra_vars, expected):
    since = emulator.requests()
    run = playbook(playbook_name, "-e", json.dumps(extra_vars))
    assert run.returncode != 0, run.explain()
    assert expected in " ".join(run.output.split()), run.explain()
    if (case, playbook_name, extra_vars, expected) in AWS_BAD_INPUTS:
        assert emulator.mutations(since) == [], f"{case}: changes sent before the input was refused"
    else:
        assert run.requests == 0, f"{case}: {run.requests} AWS requests before the input was refused"
    assert tagged_leftovers(emulator) == []


def test_check_mode_on_the_empty_account_creates_nothing(playbook, emulator, inventory, secrets_dir):
    run = playbook("aws_provision.yml", "--check")
    assert run.returncode == 0, run.explain()
    assert run.changed > 0
    assert tagged_leftovers(emulator) == []
    assert emulator.client("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["false"]}])["Vpcs"] == []
    assert not secrets_dir.exists()
    assert not (inventory / "group_vars/all/provision_outputs.yml").exists()


# ---------------------------------------------------------------------------------------------
# Provision, then a re-run changes nothing (even after an operator edited the app secret).

@pytest.fixture(scope="module")
def provisioned(playbook, emulator, metrics):
    first = playbook("aws_provision.yml", "-v")
    assert first.returncode == 0, first.explain()
    metrics["first provision"] = first.figures()
    # The operator fills in the app secret; a re-run must keep it.
    sm = emulator.client("secretsmanager")
    sm.put_secret_value(SecretId=f"{STACK}/app", SecretString=json.dumps({"OPENAI_API_KEY": "sk-operator-edited"}))
    second = playbook("aws_provision.yml")
    metrics["no-op re-run"] = second.figures()
    return {"first": first, "second": second}


@pytest.fixture(scope="module")
def outputs(provisioned, inventory) -> dict:
    return yaml.safe_load((inventory / "group_vars/all/provision_outputs.yml").read_text())["mecove_aws_outputs"]


def test_first_provision_changes_things(provisioned):
    assert provisioned["first"].changed > 0


def test_rerun_changes_nothing(provisioned):
    second = provisioned["second"]
    assert second.returncode == 0, second.explain()
    assert second.recap["changed"] == 0, second.explain()


def test_provision_ends_only_when_the_ssm_agent_is_online(provisioned, playbook, emulator, instance):
    """A host whose agent never registers fails the run within the bound, naming what to check;
    one whose agent registers a few seconds into the run is waited for, and nothing changes."""
    try:
        emulator.ssm_agents_register_after(None)
        never = playbook("aws_provision.yml", "-e", "mecove_ssm_online_timeout=6")
        assert never.returncode != 0, never.explain()
        message = " ".join(never.output.split())
        assert f"The SSM agent of {instance['InstanceId']} is not Online in Systems Manager after 6 s" in message
        assert "raise mecove_ssm_online_timeout (6 s)" in message, never.explain()
        assert "AmazonSSMManagedInstanceCore" in message

        # The agent registers 3 s after the run first asked: the run must ask again, then go on.
        before = emulator.requests_of("DescribeInstanceInformation")

        def register_once_asked():
            deadline = time.monotonic() + 300
            while emulator.requests_of("DescribeInstanceInformation") == before and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(3)
            emulator.ssm_agents_register_after(0)

        switch = threading.Thread(target=register_once_asked, daemon=True)
        switch.start()
        later = playbook("aws_provision.yml")
        switch.join()
        assert later.returncode == 0, later.explain()
        assert later.changed == 0, later.explain()
        assert emulator.requests_of("DescribeInstanceInformation") - before >= 2, "the run did not wait for the agent"
    finally:
        emulator.ssm_agents_register_after(0)


def test_operator_edited_app_secret_is_kept(provisioned, emulator):
    value = emulator.client("secretsmanager").get_secret_value(SecretId=f"{STACK}/app")["SecretString"]
    assert json.loads(value) == {"OPENAI_API_KEY": "sk-operator-edited"}


# ---------------------------------------------------------------------------------------------
# Every resource, as the emulator sees it.

@pytest.fixture(scope="module")
def network(provisioned, emulator):
    ec2 = emulator.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=TAG_FILTERS)["Vpcs"]
    assert len(vpcs) == 1
    vpc = vpcs[0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    return {"vpc": vpc, "subnets": subnets}


def test_vpc(network, emulator):
    vpc = network["vpc"]
    ec2 = emulator.client("ec2")
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    assert_ours(vpc["Tags"])
    for attribute, key in (("enableDnsHostnames", "EnableDnsHostnames"), ("enableDnsSupport", "EnableDnsSupport")):
        assert ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attribute)[key]["Value"] is True


def test_public_subnets_in_two_zones(network):
    subnets = network["subnets"]
    assert sorted(s["CidrBlock"] for s in subnets) == ["10.0.0.0/24", "10.0.1.0/24"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 2
    assert all(s["AvailabilityZone"].startswith("ap-south-1") for s in subnets)
    for subnet in subnets:
        assert_ours(subnet["Tags"])
        assert subnet["MapPublicIpOnLaunch"] is False


def test_internet_gateway_and_public_route_no_nat(network, emulator):
    ec2 = emulator.client("ec2")
    vpc_id = network["vpc"]["VpcId"]
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
    assert len(igws) == 1
    assert_ours(igws[0]["Tags"])
    tables = ec2.describe_route_tables(Filters=TAG_FILTERS)["RouteTables"]
    assert len(tables) == 1
    routes = {r.get("DestinationCidrBlock"): r.get("GatewayId") for r in tables[0]["Routes"]}
    assert routes["0.0.0.0/0"] == igws[0]["InternetGatewayId"]
    associated = {a["SubnetId"] for a in tables[0]["Associations"] if a.get("SubnetId")}
    assert associated == {s["SubnetId"] for s in network["subnets"]}
    assert ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NatGateways"] == []


def task_output(output, task):
    start = output.index(f"TASK [{task}")
    end = output.find("TASK [", start + 1)
    return output[start:end if end > 0 else None]


def role_policy(iam, role, name):
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document


def rules(permissions):
    flat = set()
    for p in permissions:
        for r in p.get("IpRanges", []):
            flat.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIp"]))
        for r in p.get("Ipv6Ranges", []):
            flat.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIpv6"]))
        for r in p.get("UserIdGroupPairs", []):
            flat.add((p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["GroupId"]))
    return flat


@pytest.fixture(scope="module")
def security_groups(network, emulator):
    groups = emulator.client("ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [network["vpc"]["VpcId"]]}] + TAG_FILTERS
    )["SecurityGroups"]
    return {g["GroupName"]: g for g in groups}


def test_security_groups_have_exactly_their_rules(security_groups):
    assert set(security_groups) == {f"{STACK}-ec2", f"{STACK}-rds"}
    ec2_sg, rds_sg = security_groups[f"{STACK}-ec2"], security_groups[f"{STACK}-rds"]
    # SSH is closed by default: no port 22 at all.
    assert rules(ec2_sg["IpPermissions"]) == {("tcp", 80, 80, "0.0.0.0/0"), ("tcp", 443, 443, "0.0.0.0/0")}
    assert rules(ec2_sg["IpPermissionsEgress"]) == {("-1", None, None, "0.0.0.0/0")}
    assert rules(rds_sg["IpPermissions"]) == {("tcp", 5432, 5432, ec2_sg["GroupId"])}
    for group in (ec2_sg, rds_sg):
        assert_ours(group["Tags"])


def test_key_pair_is_ed25519_and_its_private_key_is_0600(provisioned, emulator, secrets_dir, outputs):
    pairs = emulator.client("ec2").describe_key_pairs(KeyNames=[STACK])["KeyPairs"]
    assert pairs[0]["KeyType"] == "ed25519"
    assert_ours(pairs[0]["Tags"])
    key_file = secrets_dir / f"{STACK}-ec2-ssh-key"
    assert outputs["ssh_private_key_path"] == str(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    assert "PRIVATE KEY" in key_file.read_text()


def test_the_inventory_folder_reads_cleanly_with_the_keys_written(provisioned, inventory, secrets_dir):
    """`-i inventories/<env>` reads every file under the folder as an inventory source: keys in
    it would make every run warn, quoting their lines. They are beside it."""
    assert (secrets_dir / f"{STACK}-ec2-ssh-key").exists()
    assert inventory not in secrets_dir.parents
    listed = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory), "--graph"],
                            capture_output=True, text=True, check=False, env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=str(REPO / "ansible.cfg")))
    assert listed.returncode == 0, listed.stderr
    assert "WARNING" not in listed.stderr and "Unable to parse" not in listed.stderr, listed.stderr


def test_iam_role_profile_and_least_privilege_policy(provisioned, emulator, outputs):
    iam = emulator.client("iam")
    role_name = f"{STACK}-ec2"
    role = iam.get_role(RoleName=role_name)["Role"]
    assert_ours(role["Tags"])
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]]
    assert attached == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    profile = iam.get_instance_profile(InstanceProfileName=role_name)["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == [role_name]
    assert_ours(profile.get("Tags", []))

    assert iam.list_role_policies(RoleName=role_name)["PolicyNames"] == [f"{STACK}-secrets-and-logs"]
    document = role_policy(iam, role_name, f"{STACK}-secrets-and-logs")
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert set(statements) == {"ReadTheStacksSecrets", "WriteTheStacksLogs"}
    secrets = statements["ReadTheStacksSecrets"]
    assert secrets["Action"] == ["secretsmanager:GetSecretValue"]
    assert sorted(secrets["Resource"]) == sorted(
        [outputs["rds_master_secret_arn"], outputs["app_secret_arn"], outputs["deploy_key_secret_arn"]]
    )
    logs = statements["WriteTheStacksLogs"]
    assert sorted(logs["Action"]) == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    groups = [f"arn:aws:logs:ap-south-1:123456789012:log-group:/ec2/{STACK}/{g}" for g in ("api", "worker", "caddy")]
    assert sorted(logs["Resource"]) == sorted(groups + [g + ":*" for g in groups])
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources
        assert all(not r.endswith(":*") or ":log-group:" in r for r in resources)


@pytest.fixture(scope="module")
def instance(provisioned, emulator, outputs):
    reservations = emulator.client("ec2").describe_instances(
        Filters=TAG_FILTERS + [{"Name": "instance-state-name", "Values": LIVE_INSTANCE_STATES}]
    )["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]]
    assert len(instances) == 1, "exactly one app host"
    assert instances[0]["InstanceId"] == outputs["instance_id"]
    return instances[0]


def test_ec2_instance(instance, emulator, network, security_groups):
    ec2 = emulator.client("ec2")
    ami = emulator.client("ssm").get_parameter(
        Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    )["Parameter"]["Value"]
    assert instance["InstanceType"] == "t4g.small"
    assert instance["ImageId"] == ami
    assert instance["KeyName"] == STACK
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    assert instance["MetadataOptions"]["HttpEndpoint"] == "enabled"
    assert instance["IamInstanceProfile"]["Arn"].endswith(f":instance-profile/{STACK}-ec2")
    assert instance["SubnetId"] in {s["SubnetId"] for s in network["subnets"]}
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [security_groups[f"{STACK}-ec2"]["GroupId"]]
    assert_ours(instance["Tags"])
    assert tags_of(instance["Tags"])["Name"] == f"{STACK}-app"
    protection = ec2.describe_instance_attribute(InstanceId=instance["InstanceId"], Attribute="disableApiTermination")
    assert protection["DisableApiTermination"]["Value"] is False
    root = [m for m in instance["BlockDeviceMappings"] if m["DeviceName"] == instance["RootDeviceName"]]
    volume = ec2.describe_volumes(VolumeIds=[root[0]["Ebs"]["VolumeId"]])["Volumes"][0]
    assert (volume["Size"], volume["VolumeType"], volume["Encrypted"]) == (30, "gp3", True)


def test_elastic_ip_is_associated(instance, emulator, outputs):
    addresses = emulator.client("ec2").describe_addresses(Filters=TAG_FILTERS)["Addresses"]
    assert len(addresses) == 1
    assert addresses[0]["InstanceId"] == instance["InstanceId"]
    assert addresses[0]["PublicIp"] == outputs["elastic_ip"]


def test_rds_instance(provisioned, emulator, network, security_groups, outputs):
    rds = emulator.client("rds")
    db = rds.describe_db_instances(DBInstanceIdentifier=STACK)["DBInstances"][0]
    assert db["Engine"] == "postgres"
    assert db["EngineVersion"].split(".")[0] == "16"
    assert db["DBInstanceClass"] == "db.t4g.micro"
    assert (db["AllocatedStorage"], db["StorageType"], db["StorageEncrypted"]) == (20, "gp3", True)
    assert db["PubliclyAccessible"] is False
    assert db["MultiAZ"] is False
    assert (db["DBName"], db["MasterUsername"]) == ("mecove", "mecove")
    assert (db["BackupRetentionPeriod"], db["PreferredBackupWindow"], db["PreferredMaintenanceWindow"]) == (
        7, "20:30-21:00", "sun:21:30-sun:22:30")
    assert db["DeletionProtection"] is False
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == [security_groups[f"{STACK}-rds"]["GroupId"]]
    group = db["DBSubnetGroup"]
    assert group["DBSubnetGroupName"] == STACK
    assert {s["SubnetIdentifier"] for s in group["Subnets"]} == {s["SubnetId"] for s in network["subnets"]}
    assert_ours(rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"])["TagList"])
    # The master password is managed by RDS in Secrets Manager, and the outputs point at it.
    assert db["MasterUserSecret"]["SecretArn"] == outputs["rds_master_secret_arn"]
    secret = json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=outputs["rds_master_secret_arn"])["SecretString"])
    # (moto writes username "admin" into the managed secret whatever the master user; AWS writes the master user.)
    assert secret["username"] and secret["password"]
    assert (outputs["rds_endpoint"], outputs["rds_port"]) == (db["Endpoint"]["Address"], db["Endpoint"]["Port"])


def test_log_groups_and_retention(provisioned, emulator):
    logs = emulator.client("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups(logGroupNamePrefix=f"/ec2/{STACK}/")["logGroups"]}
    assert set(groups) == {f"/ec2/{STACK}/api", f"/ec2/{STACK}/worker", f"/ec2/{STACK}/caddy"}
    for name, group in groups.items():
        assert group["retentionInDays"] == 14
        assert_ours(logs.list_tags_log_group(logGroupName=name)["tags"])


def test_ssm_transfer_bucket_is_private_encrypted_unversioned_and_self_cleaning(provisioned, emulator, outputs):
    s3 = emulator.client("s3")
    bucket = outputs["ssm_bucket"]
    account = emulator.client("sts").get_caller_identity()["Account"]
    assert bucket == f"{STACK}-ssm-{account}"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                     "RestrictPublicBuckets": True}
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") in (None, "Suspended")
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [(r["ID"], r["Status"], r["Expiration"]["Days"]) for r in lifecycle] == [("expire-leftover-transfers", "Enabled", 1)]
    assert_ours({t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]})


def test_secrets(provisioned, emulator, secrets_dir, outputs):
    sm = emulator.client("secretsmanager")
    app = sm.describe_secret(SecretId=f"{STACK}/app")
    assert app["ARN"] == outputs["app_secret_arn"]
    assert_ours(app["Tags"])
    # The app's own database role: its name, and a password generated once (moto keeps no rotation).
    database = sm.describe_secret(SecretId=f"{STACK}/database-app")
    assert database["ARN"] == outputs["rds_app_secret_arn"]
    assert_ours(database["Tags"])
    role = json.loads(sm.get_secret_value(SecretId=f"{STACK}/database-app")["SecretString"])
    assert role["username"] == "mecove_app" and re.fullmatch(r"[A-Za-z0-9]{40}", role["password"]), role["username"]
    deploy = sm.describe_secret(SecretId=f"{STACK}/deploy-key")
    assert deploy["ARN"] == outputs["deploy_key_secret_arn"]
    assert_ours(deploy["Tags"])
    value = json.loads(sm.get_secret_value(SecretId=f"{STACK}/deploy-key")["SecretString"])
    private = secrets_dir / f"{STACK}-deploy-key"
    public = secrets_dir / f"{STACK}-deploy-key.pub"
    assert value["private_key"].strip() == private.read_text().strip()
    assert value["public_key"].strip() == public.read_text().strip()
    assert public.read_text().startswith("ssh-ed25519 ")
    assert outputs["deploy_key_public_path"] == str(public)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_outputs_file_has_the_architecture_outputs(outputs, instance):
    for key in ("elastic_ip", "instance_id", "ssh_command", "deploy_command", "ssh_private_key_path", "rds_endpoint",
                "rds_port", "rds_master_secret_arn", "rds_app_secret_arn", "app_secret_arn", "deploy_key_secret_arn", "log_groups", "region",
                "ssm_command", "ssm_bucket"):
        assert outputs.get(key) not in (None, ""), key
    # SSH is closed by default: no command is offered that cannot connect.
    assert outputs["ssh_command"] == "none: SSH is closed (mecove_ssh_allowed_cidrs is empty); use ssm_command"
    assert outputs["log_groups"] == {g: f"/ec2/{STACK}/{g}" for g in ("api", "worker", "caddy")}


def secret_values(emulator, secrets_dir, outputs) -> list[str]:
    """Distinctive fragments of every secret: key bodies and the two database passwords."""
    fragments = []
    for name in (f"{STACK}-ec2-ssh-key", f"{STACK}-deploy-key"):
        lines = [line for line in (secrets_dir / name).read_text().splitlines() if "PRIVATE KEY" not in line]
        fragments += [line for line in lines if len(line) >= 20]
    rds_secret = emulator.client("secretsmanager").get_secret_value(SecretId=outputs["rds_master_secret_arn"])
    fragments.append(json.loads(rds_secret["SecretString"])["password"])
    app_role = emulator.client("secretsmanager").get_secret_value(SecretId=outputs["rds_app_secret_arn"])
    fragments.append(json.loads(app_role["SecretString"])["password"])
    assert fragments
    return fragments


def test_no_secret_in_the_verbose_output_or_the_outputs_file(provisioned, emulator, inventory, secrets_dir, outputs):
    outputs_text = (inventory / "group_vars/all/provision_outputs.yml").read_text()
    for fragment in secret_values(emulator, secrets_dir, outputs):
        assert fragment not in provisioned["first"].output
        assert fragment not in provisioned["second"].output
        assert fragment not in outputs_text
    assert "PRIVATE KEY" not in provisioned["first"].output
    assert "PRIVATE KEY" not in outputs_text


def test_summary_prints_the_cost_estimate(provisioned):
    text = provisioned["second"].output
    assert "Estimated monthly cost" in text
    assert "prices taken 2026-02-27" in text
    assert "Total: ~" in text
    assert "RDS automated backups, 7 days: 0.00 (free up to the allocated 20 GB)" in text


def test_check_mode_reads_instead_of_writing_and_names_each_drift(provisioned, playbook, emulator, outputs, security_groups,
                                                                  network, metrics):
    """amazon.aws.cloudwatchlogs_log_group sends PutRetentionPolicy even in check mode, and S3's
    modules have none (Ansible skipped them without a word). Drift behind the playbook's back:
    --check --diff sends nothing that writes and names each drifted attribute; a run repairs all,
    and a check run after it plans nothing. The drift includes backups turned off: AWS restarts
    the database when the retention moves from 0 (an estate of the old default) to more, so both
    the check run and the real run say so before the instance is modified. The modules that print
    no diff (rds_instance) or a wrong one (ec2_security_group) get ours; each names only the drift.
    The network's modules run only for what a read found different: a lost route, a stray subnet
    tag and a subnet's IPv6 auto-assign turned on must still be found and repaired."""
    logs, s3, rds = emulator.client("logs"), emulator.client("s3"), emulator.client("rds")
    api, worker, bucket = f"/ec2/{STACK}/api", f"/ec2/{STACK}/worker", outputs["ssm_bucket"]
    logs.put_retention_policy(logGroupName=api, retentionInDays=7)
    logs.tag_log_group(logGroupName=worker, tags={"Owner": "someone"})
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rds.modify_db_instance(DBInstanceIdentifier=STACK, BackupRetentionPeriod=0, ApplyImmediately=True)
    ec2, group = emulator.client("ec2"), security_groups[f"{STACK}-ec2"]
    ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "198.51.100.0/24"}]}])
    iam, role, policy_name = emulator.client("iam"), f"{STACK}-ec2", f"{STACK}-secrets-and-logs"
    policy = role_policy(iam, role, policy_name)
    extra = {"Sid": "Extra", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    iam.put_role_policy(RoleName=role, PolicyName=policy_name,
                        PolicyDocument=json.dumps({**policy, "Statement": policy["Statement"] + [extra]}))
    subnet = network["subnets"][0]["SubnetId"]
    ec2.create_tags(Resources=[subnet], Tags=[{"Key": "Owner", "Value": "someone"}])
    other_subnet = network["subnets"][1]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=other_subnet, AssignIpv6AddressOnCreation={"Value": True})
    table = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": [f"{STACK}-public"]}])["RouteTables"][0]
    ec2.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")
    warning = "WARNING: automated backups of the database go from 0 to 7 days (mecove_rds_backup_retention_days)"
    before = emulator.requests()
    plan = playbook("aws_provision.yml", "--check", "--diff")
    text = " ".join(plan.output.split())
    assert plan.returncode == 0, plan.explain()
    assert emulator.mutations(before) == [], plan.explain()
    for drift in [f"{api}: retention 7 -> 14 days", f"{worker}: tags {{", '"Owner": "someone"} -> {',
                  f"{bucket}: public-access block {{}} -> all four on; versioning Enabled -> Suspended", warning]:
        assert drift in text, plan.explain()
    # ec2_security_group's and rds_instance's diffs replaced by ours: that change and no other.
    for ours in [f"{STACK}: backup_retention_period: 0 -> 7", f"{STACK}-ec2: inbound tcp 8080 from 198.51.100.0/24: removed"]:
        assert f"msg: '{ours}'" in text, plan.explain()
    # iam_policy's own diff: the stray statement removed, nothing else.
    policy_diff = [line for line in task_output(plan.output, "Ensure the role's inline policy").splitlines()
                   if line.startswith(("+", "-")) and not line.startswith(("---", "+++"))]
    assert all(line.startswith("-") for line in policy_diff) and "Sid: Extra" in " ".join(policy_diff), plan.explain()
    # The log groups' task (two groups), the bucket's, the EC2 group's, the database's, the policy's,
    # the subnets' and the route table's.
    assert plan.changed == 7, plan.explain()
    assert logs.describe_log_groups(logGroupNamePrefix=api)["logGroups"][0]["retentionInDays"] == 7

    run = playbook("aws_provision.yml")
    text = " ".join(run.output.split())
    assert run.returncode == 0 and warning in text, run.explain()
    assert text.index(warning) < text.index("TASK [Ensure the PostgreSQL instance exists"), run.explain()
    assert logs.describe_log_groups(logGroupNamePrefix=api)["logGroups"][0]["retentionInDays"] == 14
    assert logs.list_tags_log_group(logGroupName=worker)["tags"] == TAGS
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    assert rds.describe_db_instances(DBInstanceIdentifier=STACK)["DBInstances"][0]["BackupRetentionPeriod"] == 7
    stray = ec2.describe_security_groups(GroupIds=[group["GroupId"]])["SecurityGroups"][0]["IpPermissions"]
    assert rules(stray) == {("tcp", 80, 80, "0.0.0.0/0"), ("tcp", 443, 443, "0.0.0.0/0")}
    assert role_policy(iam, role, policy_name) == policy
    assert "Owner" not in {t["Key"] for t in ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["Tags"]}
    assert ec2.describe_subnets(SubnetIds=[other_subnet])["Subnets"][0]["AssignIpv6AddressOnCreation"] is False
    routes = ec2.describe_route_tables(RouteTableIds=[table["RouteTableId"]])["RouteTables"][0]["Routes"]
    gateways = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [network["vpc"]["VpcId"]]}])
    assert [r.get("GatewayId") for r in routes if r.get("DestinationCidrBlock") == "0.0.0.0/0"] == [
        gateways["InternetGateways"][0]["InternetGatewayId"]]

    # After convergence, check mode plans nothing, warns of nothing and shows no change of ours.
    again = playbook("aws_provision.yml", "--check", "--diff")
    metrics["check mode on the converged estate (--check --diff)"] = again.figures()
    text = " ".join(again.output.split())
    assert again.returncode == 0 and again.changed == 0, again.explain()
    assert not any(line in text for line in [warning, f"msg: '{STACK}: ", f"msg: '{STACK}-ec2: ", f"msg: '{STACK}-rds: "]), again.explain()


def test_a_setting_fixed_at_creation_that_differs_stops_the_run_before_any_change(provisioned, playbook, emulator):
    """ec2_vpc_net finds a VPC by name and CIDR, so a new CIDR would have made a second VPC; RDS
    keeps its engine major, database name and master user whatever the inventory says. Each
    difference is named, and nothing is sent but reads."""
    cases = [
        ({"mecove_vpc_cidr": "10.1.0.0/16", "mecove_public_subnet_cidrs": ["10.1.0.0/24", "10.1.1.0/24"],
          "mecove_rds_engine_version": "17", "mecove_rds_db_name": "other", "mecove_rds_master_username": "owner"},
         ["mecove_vpc_cidr is 10.1.0.0/16, the VPC has 10.0.0.0/16",
          "mecove_public_subnet_cidrs leaves out the existing subnets 10.0.0.0/24, 10.0.1.0/24",
          "mecove_rds_engine_version is 17, the database runs PostgreSQL 16",
          "mecove_rds_db_name is other, the database was created with mecove",
          "mecove_rds_master_username is owner, the database was created with mecove"]),
        ({"mecove_availability_zones": ["ap-south-1b", "ap-south-1a"]},
         ["mecove_availability_zones puts subnets elsewhere than they are: 10.0.0.0/24 in ap-south-1a, "
          "10.0.1.0/24 in ap-south-1b"]),
    ]
    for changed, expected in cases:
        before = emulator.requests()
        run = playbook("aws_provision.yml", "-e", json.dumps(changed))
        text = " ".join(run.output.split())
        assert run.returncode != 0, run.explain()
        for difference in expected:
            assert difference in text, run.explain()
        assert emulator.mutations(before) == [], run.explain()
    assert len(emulator.client("ec2").describe_vpcs(Filters=TAG_FILTERS)["Vpcs"]) == 1


def test_a_newer_ami_does_not_launch_a_second_instance_and_the_private_key_is_never_overwritten(
        provisioned, playbook, emulator, instance, secrets_dir):
    key_file = secrets_dir / f"{STACK}-ec2-ssh-key"
    key = key_file.read_bytes()
    # AWS's own parameter is read-only: a parameter of ours stands for "the SSM parameter moved on".
    ssm = emulator.client("ssm")
    name = "/mecove-test/newer-al2023-arm64-ami"
    images = emulator.client("ec2").describe_images(Owners=["amazon"])["Images"]
    newer = next(i["ImageId"] for i in images if i["ImageId"] != instance["ImageId"])
    ssm.put_parameter(Name=name, Value=newer, Type="String", Overwrite=True)
    run = playbook("aws_provision.yml", "-e", f"mecove_ec2_ami_ssm_parameter={name}")
    assert run.returncode == 0 and run.changed == 0, run.explain()
    reservations = emulator.client("ec2").describe_instances(
        Filters=TAG_FILTERS + [{"Name": "instance-state-name", "Values": LIVE_INSTANCE_STATES}]
    )["Reservations"]
    assert [i["InstanceId"] for r in reservations for i in r["Instances"]] == [instance["InstanceId"]]
    assert key_file.read_bytes() == key


# ---------------------------------------------------------------------------------------------
# Teardown: refused without confirmation, then everything, then a no-op.

# deploy.yml checks its settings and the two secrets on the controller before it connects to the
# app host. Here the host is made unreachable on purpose (a container that does not exist), so a
# check that let bad input through would fail with "unreachable" instead of its message.
# Otherwise valid settings: the demo's stand-in remote is not part of this inventory copy.
NO_HOST = ["-e", "ansible_host=mecove-bad-input-no-such-host",
           "-e", "app_deploy_repo_url=git@github.com:mecove/mecove-backend.git"]
DEPLOY_BAD_INPUTS = [
    ("unknown database TLS mode", {"mecove_database_tls": "maybe"}, None,
     "mecove_database_tls must be verify-full"),
    ("RDS CA bundle without a sha256 pin", {"mecove_database_ca_bundle_checksum": "md5:5d41402abc4b2a76b9719d911017c592"},
     None, "mecove_database_ca_bundle_checksum the bundle's pinned sha256:<64 lower-case hex digits>"),
    ("RDS CA bundle over plain HTTP", {"mecove_database_ca_bundle_url": "http://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"},
     None, "mecove_database_ca_bundle_url must be an https:// (or file:///) URL"),
    ("no Git remote", {"app_deploy_repo_url": ""}, None, "app_deploy_repo_url is not set"),
    ("Git remote on another host than the deploy key's", {"app_deploy_repo_url": "git@gitlab.com:mecove/app.git"}, None,
     "is on another host than the one the deploy key is set up for"),
    ("lower-case app environment name", {"mecove_app_environment": {"node_options": "--max-old-space-size=512"}}, None,
     "mecove_app_environment must map upper-case variable names"),
    ("app secret that is not JSON", {}, "not json at all", "is not a JSON object"),
    ("app secret with a list value", {}, json.dumps({"OPENAI_API_KEY": ["a", "b"]}),
     "must map each key to a string or a number; these keys hold lists, objects, booleans or null: ['OPENAI_API_KEY']"),
    ("app secret that sets DATABASE_URL", {}, json.dumps({"DATABASE_URL": "postgres://elsewhere"}),
     "which the deploy writes itself from the stack"),
    ("missing app secret", "missing", None, "no such secret, or an empty one"),
    # The local inventory lets the sample app run with the initial keys empty: not here.
    ("app secret with empty values", {"mecove_app_secret_optional_keys": []},
     json.dumps({"OPENAI_API_KEY": "", "GROQ_API_KEY": " ", "SARVAM_API_KEY": "sarvam-canary-7f3a"}),
     "has empty values for ['GROQ_API_KEY', 'OPENAI_API_KEY']: fill them in in Secrets Manager, or list the keys the app"
     " runs without in mecove_app_secret_optional_keys"),
    ("optional app secret keys that are not a list", {"mecove_app_secret_optional_keys": "OPENAI_API_KEY"}, None,
     "mecove_app_secret_optional_keys must be a list"),
]


@pytest.mark.parametrize("case, extra_vars, app_secret, expected", DEPLOY_BAD_INPUTS, ids=[c[0] for c in DEPLOY_BAD_INPUTS])
def test_deploy_refuses_bad_input_before_touching_the_host(
        provisioned, playbook, emulator, outputs, case, extra_vars, app_secret, expected):
    sm = emulator.client("secretsmanager")
    kept = sm.get_secret_value(SecretId=f"{STACK}/app")["SecretString"]
    if extra_vars == "missing":
        extra_vars = {"mecove_aws_outputs": dict(outputs, app_secret_arn=outputs["app_secret_arn"] + "-gone")}
    if app_secret is not None:
        sm.put_secret_value(SecretId=f"{STACK}/app", SecretString=app_secret)
    try:
        run = playbook("deploy.yml", *NO_HOST, "-e", json.dumps(extra_vars))
    finally:
        sm.put_secret_value(SecretId=f"{STACK}/app", SecretString=kept)
    text = " ".join(run.output.split())
    assert run.returncode != 0, run.explain()
    assert expected in text, run.explain()
    assert "UNREACHABLE" not in run.output and "Gather the host's facts" not in run.output, run.explain()
    if app_secret and app_secret.startswith("{"):
        for value in json.loads(app_secret).values():
            assert not str(value).strip() or str(value) not in run.output  # the value is not shown


READ_ONLY = re.compile(r"^(Describe|Get|List)")


@pytest.mark.parametrize("name", ["deploy.yml", "rollback.yml", "configure.yml"])
def test_an_app_playbook_on_a_machine_that_never_provisioned_finds_the_stack_in_aws(
        provisioned, playbook, emulator, inventory, outputs, name):
    """A CI runner or a fresh clone has no outputs file: the app playbooks find the host, the
    database and the secrets in AWS by the stack's names and tags, read-only, and go on to the
    host with them (here a container that does not exist: the run must get as far as asking for it)."""
    written = inventory / "group_vars/all/provision_outputs.yml"
    kept = written.read_text()
    written.unlink()
    before = emulator.requests()
    try:
        run = playbook(name, *NO_HOST)
    finally:
        written.write_text(kept)
    actions = emulator.actions()[before:]
    text = " ".join(run.output.split())
    assert (f"stack {STACK} found in AWS, app host {outputs['instance_id']} ({outputs['elastic_ip']}), "
            f"database {outputs['rds_endpoint']}") in text, run.explain()
    assert "No such container: mecove-bad-input-no-such-host" in run.output, run.explain()
    assert actions and all(READ_ONLY.match(action) for action in actions), sorted(set(actions))


def test_teardown_without_confirmation_deletes_nothing(provisioned, playbook, emulator):
    before = sorted(tagged_leftovers(emulator))
    run = playbook("aws_teardown.yml")
    assert run.returncode != 0 and "-e confirm=mecove-mvp" in run.output, run.explain()
    assert sorted(tagged_leftovers(emulator)) == before


def test_teardown_deletes_everything_then_is_a_noop(
        provisioned, playbook, emulator, inventory, secrets_dir, outputs, metrics):
    untagged_vpc = emulator.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    # Check mode first: a plan that names the bucket (S3's module has no check mode) and writes nothing.
    before = emulator.requests()
    plan = playbook("aws_teardown.yml", "--check", "-e", f"confirm={STACK}")
    assert plan.returncode == 0, plan.explain()
    assert emulator.mutations(before) == [], plan.explain()
    assert f"{outputs['ssm_bucket']}: would be deleted with whatever it still holds" in plan.output, plan.explain()
    first = playbook("aws_teardown.yml", "-e", f"confirm={STACK}")
    assert first.returncode == 0, first.explain()
    assert first.changed > 0
    metrics["teardown"] = first.figures()
    # The final snapshot (the default) is kept, tagged like its instance; nothing else remains.
    snapshots = emulator.client("rds").describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"].startswith(f"{STACK}-final-") for s in snapshots] == [True]
    assert [arn for arn in tagged_leftovers(emulator) if f":snapshot:{STACK}-final-" not in arn] == []
    assert not (inventory / "group_vars/all/provision_outputs.yml").exists()
    assert not (secrets_dir / f"{STACK}-ec2-ssh-key").exists()
    # Nothing without our tags was touched.
    assert emulator.client("ec2").describe_vpcs(VpcIds=[untagged_vpc])["Vpcs"]

    second = playbook("aws_teardown.yml", "-e", f"confirm={STACK}")
    assert second.returncode == 0, second.explain()
    assert second.changed == 0, second.explain()
    metrics["second teardown"] = second.figures()


# Each partial run is killed half a second into one of these tasks, in playbook order; each next
# run starts from what the killed one left.
KILL_POINTS = [
    "Ensure the VPC exists with DNS hostnames and DNS support",
    "Ensure the deploy key secret exists (never overwritten)",
    "Ensure the app host is running",
    "Ensure an Elastic IP is associated with the app host",
    "Ensure the PostgreSQL instance exists (private, encrypted, gp3)",
]


def test_a_provision_killed_midway_converges_with_no_duplicates(playbook, emulator, metrics):
    """After the teardown: provision runs killed (SIGKILL) at one task after another, then a full
    run, must leave exactly one of everything, and a further run changes nothing."""
    assert [arn for arn in tagged_leftovers(emulator) if f":snapshot:{STACK}-final-" not in arn] == []
    killed = []
    for task in KILL_POINTS:
        run = playbook("aws_provision.yml", kill_at=task)
        assert run.returncode == -9, f"not killed at {task!r}:\n{run.explain()}"
        killed.append(f"{run.seconds:.0f} s")
    full = playbook("aws_provision.yml")
    assert full.returncode == 0, full.explain()
    again = playbook("aws_provision.yml")
    assert again.returncode == 0 and again.changed == 0, again.explain()
    ec2 = emulator.client("ec2")
    assert len(ec2.describe_vpcs(Filters=TAG_FILTERS)["Vpcs"]) == 1
    live = [i for r in ec2.describe_instances(Filters=TAG_FILTERS)["Reservations"] for i in r["Instances"]
            if i["State"]["Name"] != "terminated"]
    assert len(live) == 1, live
    assert len(ec2.describe_addresses(Filters=TAG_FILTERS)["Addresses"]) == 1
    assert len(ec2.describe_key_pairs(Filters=TAG_FILTERS)["KeyPairs"]) == 1
    names = [s["Name"] for s in emulator.client("secretsmanager").list_secrets()["SecretList"]]
    assert sorted(n for n in names if n.startswith(f"{STACK}/")) == [f"{STACK}/{name}" for name in ("app", "database-app", "deploy-key")]
    assert len(emulator.client("rds").describe_db_instances()["DBInstances"]) == 1
    metrics["provision killed midway"] = (f"{len(KILL_POINTS)} killed runs ({', '.join(killed)}), then converged in "
                                          f"{full.seconds:.1f} s; the next run changed=0")
    down = playbook("aws_teardown.yml", "-e", f"confirm={STACK}")
    assert down.returncode == 0, down.explain()
