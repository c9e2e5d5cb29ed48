"""Start the AWS emulator (moto server) for the provisioning tests and the local demo.

    .venv/bin/python tests/harness/moto_server.py --port 5000 --request-log /tmp/moto-requests.log

Listens on 127.0.0.1 only. Point amazon.aws at it with AWS_ENDPOINT_URL=http://127.0.0.1:PORT
(plus dummy credentials: AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing).
With --port 0 a free port is chosen; --port-file receives the port once the server listens.
Every request is appended to --request-log as one line: "<unix time> <service> <action>".

Where moto differs from AWS in a way that breaks the product's idempotence, the emulator is
patched HERE (never the product's tasks). Each patch names the gap:

1. AWS managed policies (AmazonSSMManagedInstanceCore) exist in every real account; moto only
   loads them with MOTO_IAM_LOAD_MANAGED_POLICIES=true.
2. RDS gp3 storage: real DescribeDBInstances returns StorageThroughput and Iops for gp3 (the
   baseline below 400 GiB: 125 MiB/s and 3000 IOPS); moto leaves both out unless they were set
   explicitly, and amazon.aws rds_instance then fails on a re-run with KeyError
   'StorageThroughput' (then 'Iops').
3. Elastic IP tags: real DescribeTags reports an eipalloc-* resource as type "elastic-ip"; moto
   reports "vpc-elastic-ip", so amazon.aws ec2_eip (which filters on "elastic-ip") never sees
   its tags and re-applies them on every run (changed=true forever).
4. Security group rule descriptions: real UpdateSecurityGroupRuleDescriptionsIngress/Egress
   answer {"Return": true}; moto answers with an empty body, and amazon.aws ec2_security_group
   fails with KeyError 'Return' when it sets the description of an existing rule (e.g. the
   default egress rule of a new group).
5. Resource Groups Tagging API: AWS lists RDS DB subnet groups (rds:subgrp) among tagged
   resources; moto omits them, so a teardown that deletes only what the Tagging API shows to be
   the stack's would leave the subnet group behind.
6. SSM managed instances: on AWS, a running instance with an instance profile that allows it
   registers its SSM agent a little later and DescribeInstanceInformation reports it Online;
   moto has no DescribeInstanceInformation. Here a running instance with an instance profile
   is reported Online once it has run --ssm-agent-delay seconds (default 5), and ConnectionLost
   once it stops. A test can make agents register later, or never ("never"), with
   POST /_emulator/ssm-agent?registers_after=<seconds|never>.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import threading
import time
from urllib.parse import parse_qs

# Gap 1 (see above). Must be set before moto's IAM backend is imported.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

from moto.core.responses import ActionResult  # noqa: E402
from moto.ec2 import utils as ec2_utils  # noqa: E402
from moto.ec2.responses.security_groups import SecurityGroups  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.core.resource_tagging import TaggedResource  # noqa: E402
from moto.core.utils import utcnow  # noqa: E402
from moto.ec2.models import ec2_backends  # noqa: E402
from moto.ssm.responses import SimpleSystemManagerResponse  # noqa: E402
from moto.rds import models as rds_models  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

# AWS's gp3 baseline for RDS volumes below 400 GiB: throughput (MiB/s) and IOPS.
GP3_BASELINE_THROUGHPUT = 125
GP3_BASELINE_IOPS = 3000
# Gap 6: seconds after launch when an instance's SSM agent registers (None: never).
SSM_AGENT = {"registers_after": 5.0}


def patch_emulator() -> None:
    """Close the emulator gaps listed in the module docstring (2 to 6)."""

    # Gap 2: report the gp3 baseline throughput like AWS does when none was set explicitly.
    original = rds_models.DBInstance.storage_throughput

    def storage_throughput(self):  # type: ignore[no-untyped-def]
        value = original.fget(self)
        if value is None and getattr(self, "storage_type", None) == "gp3":
            return GP3_BASELINE_THROUGHPUT
        return value

    rds_models.DBInstance.storage_throughput = property(storage_throughput, original.fset)

    # Gap 2, Iops: moto keeps iops as a plain attribute; a property stores it and fills the baseline in.
    def get_iops(self):  # type: ignore[no-untyped-def]
        value = self.__dict__.get("_gap_iops")
        if value is None and getattr(self, "storage_type", None) == "gp3":
            return GP3_BASELINE_IOPS
        return value

    def set_iops(self, value):  # type: ignore[no-untyped-def]
        self.__dict__["_gap_iops"] = value

    rds_models.DBInstance.iops = property(get_iops, set_iops)

    # Gap 3: eipalloc-* resources are of type "elastic-ip" in DescribeTags, as in AWS.
    ec2_utils.EC2_PREFIX_TO_RESOURCE["eipalloc"] = "elastic-ip"

    # Gap 4: answer {"Return": true} like AWS.
    for name in ("update_security_group_rule_descriptions_ingress", "update_security_group_rule_descriptions_egress"):
        def with_return(self, _original=getattr(SecurityGroups, name)):  # type: ignore[no-untyped-def]
            _original(self)
            return ActionResult({"Return": True})

        setattr(SecurityGroups, name, with_return)

    # Gap 5: list tagged DB subnet groups too.
    original_iter = rds_models.RDSBackend.iter_tagged_resources

    def iter_tagged_resources(self):  # type: ignore[no-untyped-def]
        yield from original_iter(self)
        for group in self.subnet_groups.values():
            yield TaggedResource(
                arn=group.arn,
                tags={tag["Key"]: tag["Value"] for tag in group.get_tags()},
                resource_type="rds:subgrp",
            )

    rds_models.RDSBackend.iter_tagged_resources = iter_tagged_resources

    # Gap 6: the SSM agents of the emulator's instances.
    def describe_instance_information(self):  # type: ignore[no-untyped-def]
        wanted = set()
        for entry in (self._get_param("Filters") or []) + (self._get_param("InstanceInformationFilterList") or []):
            if entry.get("Key") in ("InstanceIds", "instanceIds"):
                wanted.update(entry.get("Values") or entry.get("valueSet") or [])
        ec2 = ec2_backends[self.current_account][self.region]
        after = SSM_AGENT["registers_after"]
        found = []
        for instance in ec2.all_instances():
            if wanted and instance.id not in wanted:
                continue
            if instance.id not in ec2.iam_instance_profile_associations or after is None:
                continue
            if (utcnow() - instance.launch_time).total_seconds() < after:
                continue
            found.append({
                "InstanceId": instance.id,
                "PingStatus": "Online" if instance.state == "running" else "ConnectionLost",
                "LastPingDateTime": utcnow(),
                "AgentVersion": "3.3.0.0",
                "PlatformType": "Linux",
                "PlatformName": "Amazon Linux",
                "ResourceType": "EC2Instance",
                "IPAddress": instance.private_ip,
            })
        return ActionResult({"InstanceInformationList": found})

    SimpleSystemManagerResponse.describe_instance_information = describe_instance_information


def emulator_control(environ, start_response):  # type: ignore[no-untyped-def]
    """Gap 6's switch: POST /_emulator/ssm-agent?registers_after=<seconds|never>."""
    value = parse_qs(environ.get("QUERY_STRING", "")).get("registers_after", [""])[0]
    try:
        SSM_AGENT["registers_after"] = None if value == "never" else float(value)
    except ValueError:
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"registers_after=<seconds|never>\n"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"ssm agents register after {value} s\n".encode()]


class RequestLog:
    """WSGI middleware: one line per AWS API request ("<time> <service> <action>")."""

    def __init__(self, app, path: str | None):  # type: ignore[no-untyped-def]
        self.app = app
        self.path = path
        self.lock = threading.Lock()

    @staticmethod
    def describe(environ) -> tuple[str, str]:  # type: ignore[no-untyped-def]
        auth = environ.get("HTTP_AUTHORIZATION", "")
        service = "-"
        if "Credential=" in auth:
            # Credential=AKID/20260101/region/service/aws4_request
            parts = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
            if len(parts) >= 4:
                service = parts[3]
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return service, target.rsplit(".", 1)[-1]
        action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [None])[0]
        if action is None and environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            if b"Action=" in body:
                action = parse_qs(body.decode("utf-8", "replace")).get("Action", [None])[0]
        if action is None:
            # REST-style services (e.g. some RDS/IAM clients never are; logs/ssm use X-Amz-Target).
            action = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        return service, action

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        if environ.get("PATH_INFO") == "/_emulator/ssm-agent":
            return emulator_control(environ, start_response)
        if self.path and not environ.get("PATH_INFO", "").startswith("/moto-api"):
            service, action = self.describe(environ)
            with self.lock, open(self.path, "a", encoding="utf-8") as log:
                log.write(f"{time.time():.3f} {service} {action}\n")
        return self.app(environ, start_response)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the listening port here once ready")
    parser.add_argument("--request-log", help="append one line per AWS request here")
    parser.add_argument("--ssm-agent-delay", type=float, default=SSM_AGENT["registers_after"],
                        help="seconds after launch when an instance's SSM agent is Online (gap 6)")
    args = parser.parse_args()
    SSM_AGENT["registers_after"] = args.ssm_agent_delay

    patch_emulator()
    app = RequestLog(DomainDispatcherApplication(create_backend_app), args.request_log)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_address[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"moto server (patched) listening on http://{args.host}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
