#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_instance_type_offering_info
short_description: Tell where in a region AWS offers EC2 instance types
version_added: 1.0.0
author:
  - meCove platform team (@mecove)
description:
  - Reads C(DescribeInstanceTypeOfferings) for the given instance types and returns, for each, the
    availability zones (or the region) where it can be launched.
  - A type that does not exist, or that the region does not offer, has no location. A type a zone
    does not offer makes C(RunInstances) fail there, after everything before the instance was built;
    reading the offerings first lets a playbook refuse the input before any change.
  - Why this module exists - M(amazon.aws.ec2_instance_type_info) describes instance types
    (C(DescribeInstanceTypes)) but not where they are offered, and neither amazon.aws nor
    community.aws has a module for C(DescribeInstanceTypeOfferings).
options:
  instance_types:
    description:
      - The instance types to look up (for example V(t4g.small)), exact names.
    required: true
    type: list
    elements: str
  location_type:
    description:
      - Where to report the offerings - V(availability-zone) lists zone names, V(availability-zone-id)
        zone IDs, V(region) the region itself.
    type: str
    choices: [availability-zone, availability-zone-id, region]
    default: availability-zone
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Read-only, so check mode runs it as any run does.
  - Needs C(ec2:DescribeInstanceTypeOfferings) for the caller.
"""

EXAMPLES = r"""
- name: Read where the app host's type can be launched
  mecove.platform.ec2_instance_type_offering_info:
    instance_types: [t4g.small]
    region: ap-south-1
  register: offered

- name: Refuse a zone that does not offer it
  ansible.builtin.assert:
    that: "'ap-south-1a' in offered.offerings['t4g.small']"
"""

RETURN = r"""
offerings:
  description:
    - For each requested type, the sorted locations where it is offered; an empty list when it is
      offered nowhere in the region (or does not exist).
  returned: always
  type: dict
  sample: {"t4g.small": ["ap-south-1a", "ap-south-1b", "ap-south-1c"]}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def offerings_of(module, client):
    """{instance type: sorted locations} for every requested type, offered or not."""
    wanted = module.params["instance_types"]
    found = {name: set() for name in wanted}
    try:
        pages = client.get_paginator("describe_instance_type_offerings").paginate(
            LocationType=module.params["location_type"],
            Filters=[{"Name": "instance-type", "Values": wanted}],
        )
        for page in pages:
            for offering in page.get("InstanceTypeOfferings") or []:
                if offering.get("InstanceType") in found:
                    found[offering["InstanceType"]].add(offering["Location"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to read where {', '.join(wanted)} are offered")
    return {name: sorted(locations) for name, locations in found.items()}


def main():
    argument_spec = dict(
        instance_types=dict(type="list", elements="str", required=True),
        location_type=dict(
            type="str", default="availability-zone", choices=["availability-zone", "availability-zone-id", "region"]
        ),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if not module.params["instance_types"]:
        module.fail_json(msg="instance_types must name at least one instance type")
    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
    module.exit_json(changed=False, offerings=offerings_of(module, client))


if __name__ == "__main__":
    main()
