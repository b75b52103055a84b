"""What mkdisk.py and mkvol.py share: errors, running the host's disk
tools, and the lvm2 configuration that confines them to our loop devices."""
import os
import shutil
import subprocess

ENV = dict(os.environ, LVM_SUPPRESS_FD_WARNINGS="1")


class Error(Exception):
    pass


def run(*args):
    r = subprocess.run(args, env=ENV, capture_output=True, text=True)
    if r.returncode != 0:
        raise Error("%s failed: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
    return r.stdout


def need(tool, package):
    if not shutil.which(tool):
        raise Error("%s not found: install the Debian package %s "
                    "(sdk/tools/ensure-deps.sh does)" % (tool, package))


def lvm_config(*loops):
    """Only our loop devices, no devices file, no lock daemon, no backups in /etc."""
    accept = "".join('"a|^%s$|",' % l for l in loops)
    return ('devices { use_devicesfile=0 filter=[%s"r|.*|"] } '
            'global { use_lvmlockd=0 } backup { backup=0 archive=0 }' % accept)
