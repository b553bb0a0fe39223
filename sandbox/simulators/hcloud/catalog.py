"""The fixed catalogue the simulator offers: locations, datacenters, server and load balancer types, system images;
and its read-only endpoints (:class:`CatalogMixin`).

The lists are built once and shared: treat what they return as read-only.

Names, sizes and IDs follow Hetzner's public catalogue (late 2025); prices are placeholders in the right shape.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ...httpbase import operation
from .app import Call, HcloudCore
from .errors import APIError

_LOCATIONS = [
    # id, name, description, country, city, latitude, longitude, network zone, datacenter
    (1, "fsn1", "Falkenstein DC Park 1", "DE", "Falkenstein", 50.47612, 12.370071, "eu-central", "fsn1-dc14"),
    (2, "nbg1", "Nuremberg DC Park 1", "DE", "Nuremberg", 49.452102, 11.076665, "eu-central", "nbg1-dc3"),
    (3, "hel1", "Helsinki DC Park 1", "FI", "Helsinki", 60.169855, 24.938379, "eu-central", "hel1-dc2"),
    (4, "ash", "Ashburn, VA", "US", "Ashburn, VA", 39.043757, -77.487442, "us-east", "ash-dc1"),
    (5, "hil", "Hillsboro, OR", "US", "Hillsboro, OR", 45.54222, -122.95194, "us-west", "hil-dc1"),
    (6, "sin", "Singapore", "SG", "Singapore", 1.283333, 103.833333, "ap-southeast", "sin-dc1"),
]
_DATACENTER_IDS = {"fsn1-dc14": 4, "nbg1-dc3": 2, "hel1-dc2": 3, "ash-dc1": 5, "hil-dc1": 6, "sin-dc1": 7}

_SERVER_TYPES = [
    # id, name, cores, memory GB, disk GB, cpu type, architecture, category, locations
    (104, "cx22", 2, 4.0, 40, "shared", "x86", "cost_optimized", ("fsn1", "nbg1", "hel1")),
    (105, "cx32", 4, 8.0, 80, "shared", "x86", "cost_optimized", ("fsn1", "nbg1", "hel1")),
    (106, "cx42", 8, 16.0, 160, "shared", "x86", "cost_optimized", ("fsn1", "nbg1", "hel1")),
    (107, "cx52", 16, 32.0, 320, "shared", "x86", "cost_optimized", ("fsn1", "nbg1", "hel1")),
    (108, "cpx11", 2, 2.0, 40, "shared", "x86", "regular_purpose", ("fsn1", "nbg1", "hel1", "ash", "hil", "sin")),
    (109, "cpx21", 3, 4.0, 80, "shared", "x86", "regular_purpose", ("fsn1", "nbg1", "hel1", "ash", "hil", "sin")),
    (110, "cpx31", 4, 8.0, 160, "shared", "x86", "regular_purpose", ("fsn1", "nbg1", "hel1", "ash", "hil", "sin")),
    (111, "cpx41", 8, 16.0, 240, "shared", "x86", "regular_purpose", ("fsn1", "nbg1", "hel1", "ash", "hil", "sin")),
    (45, "cax11", 2, 4.0, 40, "shared", "arm", "cost_optimized", ("fsn1", "nbg1", "hel1")),
    (93, "cax21", 4, 8.0, 80, "shared", "arm", "cost_optimized", ("fsn1", "nbg1", "hel1")),
    (94, "cax31", 8, 16.0, 160, "shared", "arm", "cost_optimized", ("fsn1", "nbg1", "hel1")),
    (96, "ccx13", 2, 8.0, 80, "dedicated", "x86", "general_purpose", ("fsn1", "nbg1", "hel1", "ash", "hil", "sin")),
    (97, "ccx23", 4, 16.0, 160, "dedicated", "x86", "general_purpose", ("fsn1", "nbg1", "hel1", "ash", "hil", "sin")),
]

_LOAD_BALANCER_TYPES = [
    # id, name, max connections, services, targets, certificates
    (1, "lb11", 10000, 5, 25, 10),
    (2, "lb21", 20000, 15, 75, 25),
    (3, "lb31", 40000, 30, 150, 50),
]

_SYSTEM_IMAGES = [
    # id, name, os flavor, os version, architecture
    (161547269, "ubuntu-24.04", "ubuntu", "24.04", "x86"),
    (161547270, "ubuntu-24.04", "ubuntu", "24.04", "arm"),
    (114690387, "debian-12", "debian", "12", "x86"),
    (114690389, "debian-12", "debian", "12", "arm"),
]


def _price(location: str, hourly: float) -> dict[str, Any]:
    monthly = round(hourly * 730, 4)
    return {
        "location": location,
        "price_hourly": {"net": f"{hourly:.4f}", "gross": f"{hourly * 1.19:.4f}"},
        "price_monthly": {"net": f"{monthly:.4f}", "gross": f"{monthly * 1.19:.4f}"},
        "included_traffic": 21990232555520,
        "price_per_tb_traffic": {"net": "1.0000", "gross": "1.1900"},
    }


@cache
def locations() -> list[dict[str, Any]]:
    return [
        {
            "id": ident,
            "name": name,
            "description": description,
            "country": country,
            "city": city,
            "latitude": latitude,
            "longitude": longitude,
            "network_zone": zone,
        }
        for ident, name, description, country, city, latitude, longitude, zone, _dc in _LOCATIONS
    ]


def location(name: str) -> dict[str, Any] | None:
    return next((item for item in locations() if item["name"] == name or str(item["id"]) == str(name)), None)


@cache
def server_types() -> list[dict[str, Any]]:
    return [
        {
            "id": ident,
            "name": name,
            "description": name.upper(),
            "cores": cores,
            "memory": memory,
            "disk": disk,
            "deprecated": False,
            "deprecation": None,
            "prices": [_price(where, cores * 0.0032) for where in places],
            "storage_type": "local",
            "cpu_type": cpu,
            "category": category,
            "architecture": arch,
            "locations": [
                {
                    "id": location(where)["id"],  # type: ignore[index]
                    "name": where,
                    "deprecation": None,
                    "recommended": True,
                    "available": True,
                }
                for where in places
            ],
        }
        for ident, name, cores, memory, disk, cpu, arch, category, places in _SERVER_TYPES
    ]


def server_type(id_or_name: str | int) -> dict[str, Any] | None:
    return next((item for item in server_types() if id_or_name in (item["name"], item["id"], str(item["id"]))), None)


@cache
def datacenters() -> list[dict[str, Any]]:
    found = []
    for _ident, name, *_rest, datacenter in _LOCATIONS:
        types = [item["id"] for item in server_types() if any(where["name"] == name for where in item["locations"])]
        found.append(
            {
                "id": _DATACENTER_IDS[datacenter],
                "name": datacenter,
                "description": f"{name.upper()} virtual DC",
                "location": location(name),
                "server_types": {"supported": types, "available": types, "available_for_migration": types},
            }
        )
    return found


def datacenter(id_or_name: str | int) -> dict[str, Any] | None:
    return next((item for item in datacenters() if id_or_name in (item["name"], item["id"], str(item["id"]))), None)


def datacenter_of(location_name: str) -> dict[str, Any]:
    return next(item for item in datacenters() if item["location"]["name"] == location_name)


@cache
def load_balancer_types() -> list[dict[str, Any]]:
    return [
        {
            "id": ident,
            "name": name,
            "description": name.upper(),
            "max_connections": connections,
            "max_services": services,
            "max_targets": targets,
            "max_assigned_certificates": certificates,
            "deprecated": None,
            "deprecation": None,
            "prices": [_price(where[1], ident * 0.008) for where in _LOCATIONS],
        }
        for ident, name, connections, services, targets, certificates in _LOAD_BALANCER_TYPES
    ]


def load_balancer_type(id_or_name: str | int) -> dict[str, Any] | None:
    found = load_balancer_types()
    return next((item for item in found if id_or_name in (item["name"], item["id"], str(item["id"]))), None)


def system_images(created: str) -> list[dict[str, Any]]:
    return [
        {
            "id": ident,
            "type": "system",
            "status": "available",
            "name": name,
            "description": f"{flavor.capitalize()} {version}",
            "image_size": None,
            "disk_size": 5,
            "created": created,
            "created_from": None,
            "bound_to": None,
            "os_flavor": flavor,
            "os_version": version,
            "rapid_deploy": True,
            "protection": {"delete": False},
            "deprecated": None,
            "deleted": None,
            "labels": {},
            "architecture": arch,
        }
        for ident, name, flavor, version, arch in _SYSTEM_IMAGES
    ]


class CatalogMixin(HcloudCore):
    """The read-only catalogue endpoints: locations, datacenters, server types, load balancer types."""

    @operation("GET", "/locations")
    def list_locations(self, call: Call) -> Any:
        return self.listing(call, "locations", locations())

    @operation("GET", "/locations/{id}")
    def get_location(self, call: Call) -> Any:
        return 200, {"location": _need(location(str(call.id())), "Location", call.id())}

    @operation("GET", "/datacenters")
    def list_datacenters(self, call: Call) -> Any:
        status, data = self.listing(call, "datacenters", datacenters())
        data["recommendation"] = datacenter("fsn1-dc14")["id"]  # type: ignore[index]
        return status, data

    @operation("GET", "/datacenters/{id}")
    def get_datacenter(self, call: Call) -> Any:
        return 200, {"datacenter": _need(datacenter(call.id()), "Datacenter", call.id())}

    @operation("GET", "/server_types")
    def list_server_types(self, call: Call) -> Any:
        return self.listing(call, "server_types", server_types())

    @operation("GET", "/server_types/{id}")
    def get_server_type(self, call: Call) -> Any:
        return 200, {"server_type": _need(server_type(call.id()), "Server Type", call.id())}

    @operation("GET", "/load_balancer_types")
    def list_load_balancer_types(self, call: Call) -> Any:
        return self.listing(call, "load_balancer_types", load_balancer_types())

    @operation("GET", "/load_balancer_types/{id}")
    def get_load_balancer_type(self, call: Call) -> Any:
        found = load_balancer_type(call.id())
        return 200, {"load_balancer_type": _need(found, "Load Balancer Type", call.id())}


def _need(found: dict[str, Any] | None, what: str, ident: Any) -> dict[str, Any]:
    if found is None:
        raise APIError(404, "not_found", f"{what} with ID '{ident}' not found")
    return found
