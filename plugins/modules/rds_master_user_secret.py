#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: rds_master_user_secret
short_description: Hand an RDS DB instance's master password to RDS and Secrets Manager
version_added: 1.0.0
description:
  - Ensures that the master user password of an existing Amazon RDS DB instance is managed by RDS
    in AWS Secrets Manager (C(ManageMasterUserPassword)), and returns the ARN of that secret.
  - Why this module exists - M(amazon.aws.rds_instance) (up to amazon.aws 11.4.0) has no option for
    C(ManageMasterUserPassword) and does not return C(MasterUserSecret), so the RDS-managed master
    password cannot be requested or found through amazon.aws.
  - Design - M(amazon.aws.rds_instance) still creates and converges the instance (engine, class,
    storage, network, backups, tags); this module only turns the managed password on, right after
    creation, and reads the secret's ARN on every run. Creating the instance here instead would
    duplicate most of M(amazon.aws.rds_instance). The cost is that the instance is created with a
    throwaway password that nobody stores, which RDS replaces with its own when this module runs.
  - Turning the managed password on replaces the current master password at once (with
    O(apply_immediately=true)); applications must read it from the secret.
  - Idempotent - an instance whose password is already managed is left alone.
  - Turning the managed password off again is not supported (it needs a new plain password).
options:
  db_instance_identifier:
    description:
      - The identifier of the DB instance.
    required: true
    aliases:
      - id
    type: str
  apply_immediately:
    description:
      - Apply the change now rather than in the next maintenance window.
      - With V(false) the secret may not exist yet when the module returns.
    type: bool
    default: true
  wait:
    description:
      - Wait until the DB instance is available and its master user secret is active.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for, with O(wait=true).
    type: int
    default: 1200
notes:
  - Supports check mode. In check mode an instance that does not exist yet (for example one that
    M(amazon.aws.rds_instance) would create in the same check run) is reported as changed, without
    a secret ARN.
  - The secret is encrypted with the account's default C(aws/secretsmanager) key.
author:
  - meCove platform team (@mecove)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Ensure the database's master password is managed by RDS in Secrets Manager
  mecove.platform.rds_master_user_secret:
    db_instance_identifier: mecove-mvp
    region: ap-south-1
  register: master_secret

- name: Let the instance role read that secret (and nothing else)
  amazon.aws.iam_policy:
    iam_type: role
    iam_name: mecove-mvp-ec2
    policy_name: read-db-secret
    policy_json:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: secretsmanager:GetSecretValue
          Resource: "{{ master_secret.secret_arn }}"
"""

RETURN = r"""
secret_arn:
  description:
    - ARN of the Secrets Manager secret that holds the master user name and password.
    - V(null) when the secret does not exist yet (check mode, or O(apply_immediately=false)).
  returned: always
  type: str
  sample: "arn:aws:secretsmanager:ap-south-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf"
db_instance_identifier:
  description: The DB instance's identifier.
  returned: always
  type: str
  sample: mecove-mvp
db_instance_arn:
  description: The DB instance's ARN.
  returned: when the instance exists
  type: str
  sample: "arn:aws:rds:ap-south-1:123456789012:db:mecove-mvp"
master_user_secret:
  description: The instance's C(MasterUserSecret), in snake case.
  returned: when the instance exists and the secret exists
  type: dict
  contains:
    secret_arn:
      description: ARN of the secret.
      returned: always
      type: str
      sample: "arn:aws:secretsmanager:ap-south-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf"
    secret_status:
      description: C(creating), C(active), C(rotating) or C(impaired).
      returned: always
      type: str
      sample: active
    kms_key_id:
      description: The KMS key that encrypts the secret.
      returned: always
      type: str
      sample: "arn:aws:kms:ap-south-1:123456789012:key/0a1b2c3d-0000-0000-0000-000000000000"
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.mecove.platform.plugins.module_utils.waiting import poll_until


def describe_instance(module, client):
    """The DB instance as DescribeDBInstances returns it, or None when it does not exist."""
    identifier = module.params["db_instance_identifier"]
    try:
        response = client.describe_db_instances(DBInstanceIdentifier=identifier, aws_retry=True)
    except is_boto3_error_code("DBInstanceNotFound"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Failed to describe DB instance {identifier}")
    instances = response.get("DBInstances") or []
    return instances[0] if instances else None


def secret_of(instance):
    return (instance or {}).get("MasterUserSecret") or {}


def is_settled(instance):
    secret = secret_of(instance)
    return (
        instance is not None
        and instance.get("DBInstanceStatus") == "available"
        and bool(secret.get("SecretArn"))
        and secret.get("SecretStatus") == "active"
    )


def wait_for(module, client, predicate, what):
    instance, done = poll_until(lambda: describe_instance(module, client), predicate, module.params["wait_timeout"])
    if not done:
        status = (instance or {}).get("DBInstanceStatus", "missing")
        module.fail_json(
            msg=f"Timed out after {module.params['wait_timeout']}s waiting for {what} "
            f"(instance status: {status}, secret status: {secret_of(instance).get('SecretStatus')})"
        )
    return instance


def result_for(module, instance, changed):
    secret = secret_of(instance)
    result = dict(
        changed=changed,
        db_instance_identifier=module.params["db_instance_identifier"],
        secret_arn=secret.get("SecretArn"),
    )
    if instance is not None:
        result["db_instance_arn"] = instance.get("DBInstanceArn")
    if secret:
        result["master_user_secret"] = camel_dict_to_snake_dict(secret)
    return result


def main():
    argument_spec = dict(
        db_instance_identifier=dict(type="str", required=True, aliases=["id"]),
        apply_immediately=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1200),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("rds", retry_decorator=AWSRetry.jittered_backoff())
    identifier = module.params["db_instance_identifier"]

    instance = describe_instance(module, client)
    if instance is None:
        if module.check_mode:
            module.exit_json(
                msg=f"DB instance {identifier} does not exist (yet); its master password would be managed once it does",
                **result_for(module, None, True),
            )
        module.fail_json(msg=f"DB instance {identifier} does not exist: create it first (amazon.aws.rds_instance)")

    if secret_of(instance).get("SecretArn"):
        if module.params["wait"] and not module.check_mode and not is_settled(instance):
            instance = wait_for(module, client, is_settled, "the master user secret to become active")
        module.exit_json(**result_for(module, instance, False))

    if module.check_mode:
        module.exit_json(**result_for(module, instance, True))

    if module.params["wait"] and instance.get("DBInstanceStatus") != "available":
        # RDS refuses modifications while the instance is being created or modified.
        instance = wait_for(
            module, client, lambda i: i is not None and i.get("DBInstanceStatus") == "available", "the instance"
        )

    try:
        client.modify_db_instance(
            DBInstanceIdentifier=identifier,
            ManageMasterUserPassword=True,
            ApplyImmediately=module.params["apply_immediately"],
            aws_retry=True,
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to turn on the RDS-managed master password of {identifier}")

    if module.params["wait"] and module.params["apply_immediately"]:
        instance = wait_for(module, client, is_settled, "the master user secret to become active")
    else:
        instance = describe_instance(module, client)
    module.exit_json(**result_for(module, instance, True))


if __name__ == "__main__":
    main()
