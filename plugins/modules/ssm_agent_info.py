#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ssm_agent_info
short_description: Tell whether an EC2 instance's SSM agent is Online in Systems Manager, optionally waiting for it
version_added: 1.0.0
description:
  - Reads what AWS Systems Manager knows of one managed instance with C(DescribeInstanceInformation),
    that is whether its SSM agent registered, its ping status (C(Online), C(ConnectionLost),
    C(Inactive)), the agent's version and the platform it reports.
  - With O(wait=true), looks again until the ping status is C(Online) or O(wait_timeout) seconds
    have passed, then fails, naming the last status seen.
  - Why this module exists - a new instance's agent registers some time after the instance is
    running, and the M(amazon.aws.aws_ssm) connection cannot start a session before it is
    C(Online). Neither amazon.aws nor community.aws has a module for
    C(DescribeInstanceInformation); M(community.aws.ssm_inventory_info) reads the inventory
    (C(GetInventory)), which is collected later and does not carry the ping status.
options:
  instance_id:
    description:
      - The EC2 instance ID (C(i-...)).
    required: true
    type: str
  wait:
    description:
      - Wait until the instance's agent is C(Online).
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait for, with O(wait=true).
    type: int
    default: 600
notes:
  - Supports check mode; the module changes nothing.
  - Needs C(ssm:DescribeInstanceInformation) for the caller.
author:
  - meCove platform team (@mecove)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wait until the app host can be reached over SSM
  mecove.platform.ssm_agent_info:
    instance_id: i-0123456789abcdef0
    region: ap-south-1
    wait: true
    wait_timeout: 600
  register: agent

- name: Show the agent's version
  ansible.builtin.debug:
    msg: "SSM agent {{ agent.instance_information.agent_version }} is {{ agent.ping_status }}"
"""

RETURN = r"""
registered:
  description: Whether Systems Manager knows the instance as a managed node.
  returned: always
  type: bool
  sample: true
online:
  description: Whether its ping status is C(Online).
  returned: always
  type: bool
  sample: true
ping_status:
  description: C(Online), C(ConnectionLost) or C(Inactive); V(null) when not registered.
  returned: always
  type: str
  sample: Online
waited:
  description: Seconds spent waiting (0 without O(wait=true)).
  returned: always
  type: int
  sample: 42
instance_information:
  description: The instance's C(InstanceInformation), in snake case.
  returned: when registered
  type: dict
  contains:
    instance_id:
      description: The instance ID.
      returned: always
      type: str
      sample: i-0123456789abcdef0
    agent_version:
      description: The SSM agent's version.
      returned: always
      type: str
      sample: 3.3.1142.0
    platform_name:
      description: The operating system the agent reports.
      returned: always
      type: str
      sample: Amazon Linux
    last_ping_date_time:
      description: When the agent last reported.
      returned: always
      type: str
      sample: "2026-12-01T10:00:00+00:00"
"""

import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.mecove.platform.plugins.module_utils.waiting import poll_until


def describe(module, client):
    """The instance's InstanceInformation, or None while its agent has not registered."""
    instance_id = module.params["instance_id"]
    try:
        response = client.describe_instance_information(
            Filters=[{"Key": "InstanceIds", "Values": [instance_id]}], aws_retry=True
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to read the Systems Manager status of {instance_id}")
    found = [i for i in response.get("InstanceInformationList") or [] if i.get("InstanceId") == instance_id]
    return found[0] if found else None


def is_online(information):
    return (information or {}).get("PingStatus") == "Online"


def result_for(information, waited):
    result = dict(
        changed=False,
        registered=information is not None,
        online=is_online(information),
        ping_status=(information or {}).get("PingStatus"),
        waited=int(waited),
    )
    if information is not None:
        result["instance_information"] = camel_dict_to_snake_dict(information)
    return result


def main():
    argument_spec = dict(
        instance_id=dict(type="str", required=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=600),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg=f"wait_timeout must be 0 or more seconds, got {module.params['wait_timeout']}")
    client = module.client("ssm", retry_decorator=AWSRetry.jittered_backoff())

    started = time.time()
    if not module.params["wait"]:
        module.exit_json(**result_for(describe(module, client), 0))
    information, online = poll_until(lambda: describe(module, client), is_online, module.params["wait_timeout"])
    result = result_for(information, time.time() - started)
    if not online:
        last = result["ping_status"] or "not registered"
        module.fail_json(
            msg=f"The SSM agent of {module.params['instance_id']} is not Online in Systems Manager after "
            f"{module.params['wait_timeout']} s (last seen: {last})",
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
