"""Make `sam local invoke|start-api --docker-network host` use host networking.

SAM CLI 1.170 accepts `--docker-network host` and ignores it
(aws/aws-sam-cli#4236, closed unfixed): `samcli/local/docker/container.py`
never sets the container's network mode, skips `network.connect` when the
network is "host", and always publishes the emulator's port 8080 on a random
host port it then POSTs to. Docker refuses port bindings in host mode, and
several containers in the host's namespace would all want 8080 and 9001.

For Lambda containers whose entrypoint is the Runtime Interface Emulator, and
only when the network asked for is "host", this module:
  * drops the port bindings and creates the container with network_mode=host,
    so the function reaches servers on the host's 127.0.0.1 (moto, the
    engine fake) and nothing is reached through a bridge address;
  * makes the emulator listen on the very interface:port SAM already picked
    and will POST to (--runtime-interface-emulator-address), and gives each
    container a Runtime API port of its own (--runtime-api-address).

Linux only (on Docker Desktop "host" is the VM). Loaded through
sitecustomize.py by scripts/sam-local.sh; it touches nothing otherwise.
"""
import threading

import docker.models.containers as _docker_containers
from samcli.local.docker import container as _sam_container
from samcli.local.docker.utils import NoFreePortsError, find_free_port

_RIE = "/var/rapid/aws-lambda-rie"
_state = threading.local()
_lock = threading.Lock()
_runtime_ports = set()

_sam_create = _sam_container.Container.create
_sam_delete = _sam_container.Container.delete
_docker_create = _docker_containers.ContainerCollection.create


def _runtime_port():
    with _lock:
        for _ in range(50):
            try:
                port = find_free_port(network_interface="127.0.0.1", start=9100, end=9999)
            except NoFreePortsError:
                break
            if port not in _runtime_ports:
                _runtime_ports.add(port)
                return port
    raise RuntimeError("sam_hostnet: no free port for a Lambda Runtime API")


def create(self, *args, **kwargs):
    entrypoint = getattr(self, "_hostnet_entrypoint", None) or self._entrypoint
    if self.network_id != "host" or not entrypoint or entrypoint[0] != _RIE:
        return _sam_create(self, *args, **kwargs)
    self._hostnet_entrypoint = list(entrypoint)
    if getattr(self, "_hostnet_runtime_port", None) is None:
        self._hostnet_runtime_port = _runtime_port()
    interface = self._container_host_interface or "127.0.0.1"
    self._entrypoint = [
        entrypoint[0],
        "--runtime-interface-emulator-address", f"{interface}:{self.rapid_port_host}",
        "--runtime-api-address", f"127.0.0.1:{self._hostnet_runtime_port}",
        *entrypoint[1:],
    ]
    # A debugger port needs no publishing either in the host's namespace.
    self._exposed_ports = None
    _state.host_network = True
    try:
        return _sam_create(self, *args, **kwargs)
    finally:
        _state.host_network = False


def delete(self, *args, **kwargs):
    try:
        return _sam_delete(self, *args, **kwargs)
    finally:
        port = getattr(self, "_hostnet_runtime_port", None)
        if port is not None:
            with _lock:
                _runtime_ports.discard(port)
            self._hostnet_runtime_port = None


def docker_create(self, image, command=None, **kwargs):
    if getattr(_state, "host_network", False):
        kwargs.pop("ports", None)
        kwargs.pop("network", None)
        kwargs["network_mode"] = "host"
    return _docker_create(self, image, command, **kwargs)


_sam_container.Container.create = create
_sam_container.Container.delete = delete
_docker_containers.ContainerCollection.create = docker_create
