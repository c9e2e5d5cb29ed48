#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026, meCove platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aws_tagged_resources_info
short_description: List the resources of a region that carry given tags
version_added: 1.0.0
description:
  - Lists the ARNs and tags of every resource of the region that carries all the given tags,
    through the Resource Groups Tagging API (C(tag:GetResources)).
  - Why this module exists - teardown must touch nothing that lacks the stack's tags, and several
    amazon.aws and community.aws modules (Secrets Manager secrets, RDS DB subnet groups) have no
    info module that returns tags. One call here answers "is this resource ours?" for all of them.
  - The Tagging API can still list a resource shortly after it was deleted; deleting it again must
    therefore be harmless (it is, with the state=absent modules).
  - IAM is global and is not covered by this API in a region; check IAM tags with the IAM info modules.
options:
  tags:
    description:
      - Tag keys and the value each must have. A resource must carry all of them.
    required: true
    type: dict
  resource_types:
    description:
      - Only these resource types, in the Tagging API's C(service[:resourceType]) form, for example
        V(secretsmanager:secret), V(rds:subgrp), V(logs:log-group).
      - Default is all types.
    type: list
    elements: str
    default: []
notes:
  - Read-only; supports check mode.
author:
  - meCove platform team (@mecove)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find the stack's secrets, DB subnet groups and log groups
  mecove.platform.aws_tagged_resources_info:
    tags:
      Project: mecove-mvp
      ManagedBy: ansible-mecove-platform
    resource_types:
      - secretsmanager:secret
      - rds:subgrp
      - logs:log-group
  register: ours

- name: Delete the app secret only if it is ours
  community.aws.secretsmanager_secret:
    name: mecove-mvp/app
    state: absent
  when: ours.resources | selectattr('arn', 'search', ':secret:mecove-mvp/app-') | list | length > 0
"""

RETURN = r"""
resources:
  description: The matching resources.
  returned: always
  type: list
  elements: dict
  contains:
    arn:
      description: The resource's ARN.
      returned: always
      type: str
      sample: "arn:aws:secretsmanager:ap-south-1:123456789012:secret:mecove-mvp/app-AbCdEf"
    tags:
      description: All the resource's tags.
      returned: always
      type: dict
      sample: {"Project": "mecove-mvp"}
arns:
  description: The ARNs of the matching resources, sorted.
  returned: always
  type: list
  elements: str
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict


@AWSRetry.jittered_backoff()
def _paginated_resources(client, **kwargs):
    return client.get_paginator("get_resources").paginate(**kwargs).build_full_result()


def get_resources(module, client):
    tag_filters = [{"Key": key, "Values": [str(value)]} for key, value in sorted(module.params["tags"].items())]
    kwargs = dict(TagFilters=tag_filters)
    if module.params["resource_types"]:
        kwargs["ResourceTypeFilters"] = module.params["resource_types"]
    try:
        mappings = _paginated_resources(client, **kwargs).get("ResourceTagMappingList", [])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list the tagged resources")
    resources = [
        dict(arn=mapping["ResourceARN"], tags=boto3_tag_list_to_ansible_dict(mapping.get("Tags", [])))
        for mapping in mappings
    ]
    return sorted(resources, key=lambda r: r["arn"])


def main():
    argument_spec = dict(
        tags=dict(type="dict", required=True),
        resource_types=dict(type="list", elements="str", default=[]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if not module.params["tags"]:
        module.fail_json(msg="tags must name at least one tag: listing every resource of the region is not this module's job")
    client = module.client("resourcegroupstaggingapi")
    resources = get_resources(module, client)
    module.exit_json(changed=False, resources=resources, arns=[r["arn"] for r in resources])


if __name__ == "__main__":
    main()
