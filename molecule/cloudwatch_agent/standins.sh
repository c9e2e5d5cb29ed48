#!/bin/sh
# MOLECULE STAND-INS (run by prepare.yml) for what the cloudwatch_agent scenario cannot have:
# Caddy and the CloudWatch agent's package. Nothing here is part of the product.
set -eu

# Caddy, as its package and mecove.platform.caddy leave it: a caddy account, its 0750 log folder,
# and an access log readable by the caddy group (0640).
id caddy >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /var/lib/caddy --shell /usr/sbin/nologin caddy
install -d -o caddy -g caddy -m 0750 /var/log/caddy
printf '%s\n' '{"level":"info","msg":"handled request","status":200}' > /var/log/caddy/access.log
chown caddy:caddy /var/log/caddy/access.log
chmod 0640 /var/log/caddy/access.log

# STAND-IN for the agent's control script (not the agent's): records its arguments, one call a line.
install -d -m 0755 /opt/aws/amazon-cloudwatch-agent/bin
cat > /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl <<'SCRIPT'
#!/bin/sh
# MOLECULE STAND-IN for amazon-cloudwatch-agent-ctl: records each call, runs no agent.
echo "$*" >> /var/log/cwagent-ctl-standin.log
SCRIPT
chmod 0755 /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl

# STAND-IN unit with the package's unit name and [Install] section; it runs no agent.
cat > /etc/systemd/system/amazon-cloudwatch-agent.service <<'UNIT'
# MOLECULE STAND-IN: not the CloudWatch agent.
[Unit]
Description=Stand-in for the Amazon CloudWatch Agent (molecule)

[Service]
Type=simple
ExecStart=/bin/sleep infinity

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
