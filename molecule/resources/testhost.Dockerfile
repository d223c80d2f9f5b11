# The systemd test host: what a freshly provisioned Debian 13 app, database or edge host looks like,
# with the distribution packages the collection expects preinstalled so that no test waits on apt.
ARG BASE_IMAGE=debian:trixie
FROM ${BASE_IMAGE}

ENV container=docker \
    DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      systemd systemd-sysv dbus python3 python3-apt python3-psycopg2 python3-requests \
      sudo acl ca-certificates curl procps iproute2 less git rsync gzip tar xz-utils \
      nodejs npm \
      postgresql-17 postgresql-client-17 postgresql-client \
      nginx-light \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 && systemctl disable postgresql.service nginx.service \
 && systemctl mask systemd-logind.service getty.target console-getty.service \
      systemd-firstboot.service systemd-udevd.service systemd-udev-trigger.service \
 && rm -f /etc/machine-id && touch /etc/machine-id

STOPSIGNAL SIGRTMIN+3
CMD ["/lib/systemd/systemd"]
