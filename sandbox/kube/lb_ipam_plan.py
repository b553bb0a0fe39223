"""What MetalLB's controller and Cilium's LB-IPAM would assign: a pure plan from the Services and the pool objects.

The LB-IPAM stand-in (lb_ipam.py) reads the Services and the real pool objects and calls :func:`plan`; this module
decides, without any I/O, which address each Service of type LoadBalancer gets, or why it gets none, with the
real controllers' rules and words (MetalLB v0.16 ``controller/service.go`` and ``internal/allocator``, Cilium 1.20
``operator/pkg/lbipam``):

- **MetalLB** (``IPAddressPool`` metallb.io/v1beta1): ``metallb.io/loadBalancerIPs`` (or ``spec.loadBalancerIP``)
  asks for an address, ``metallb.io/address-pool`` for a pool; otherwise the first free address of the pools with
  ``autoAssign`` (pools taken by name). An address is shared only between Services carrying the same
  ``metallb.io/allow-shared-ip`` key and using different ports. A failure is an ``AllocationFailed`` Warning event,
  a success an ``IPAllocated`` event and the ``metallb.io/ip-allocated-from-pool`` annotation.
- **Cilium** (``CiliumLoadBalancerIPPool`` cilium.io/v2): the pools whose ``serviceSelector`` matches the Service's
  labels (plus ``io.kubernetes.service.namespace``/``name``), not ``disabled`` and not overlapping an older pool;
  ``lbipam.cilium.io/ips`` (or ``spec.loadBalancerIP``) asks for an address, ``lbipam.cilium.io/sharing-key`` lets
  Services share one. The outcome is the Service condition ``cilium.io/IPAMRequestSatisfied`` (reasons
  ``satisfied``, ``no_pool``, ``out_of_ips``, ``pool_selector_mismatch``, ``already_allocated``,
  ``already_allocated_incompatible_service``); Cilium records no event.

Which controller serves a Service: none unless its type is LoadBalancer; ``spec.loadBalancerClass`` unset goes to
MetalLB when it is on (installed, with IPAddressPools), else to Cilium when it is on (installed, with
CiliumLoadBalancerIPPools: Cilium's LB-IPAM is dormant until its first pool); the classes
``io.cilium/l2-announcer`` and ``io.cilium/bgp-control-plane`` go to Cilium; any other class is left to whoever
owns it. A Service keeps an address it already has while that address stays
valid, so the plan is stable from one round to the next; older Services are served first.
Not modelled: dual-stack (one IPv4 or IPv6 address per Service), MetalLB's ``serviceAllocation`` and
``avoidBuggyIPs`` beyond skipping .0/.255, Cilium's pool status conditions.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

METALLB = "metallb"
CILIUM = "cilium"
CILIUM_CLASSES = {"io.cilium/l2-announcer", "io.cilium/bgp-control-plane"}
CILIUM_CONDITION = "cilium.io/IPAMRequestSatisfied"
METALLB_POOL_ANNOTATION = "metallb.io/address-pool"
METALLB_IPS_ANNOTATION = "metallb.io/loadBalancerIPs"
METALLB_SHARING_ANNOTATION = "metallb.io/allow-shared-ip"
METALLB_FROM_POOL_ANNOTATION = "metallb.io/ip-allocated-from-pool"
CILIUM_IPS_ANNOTATIONS = ("lbipam.cilium.io/ips", "io.cilium/lb-ipam-ips")
CILIUM_SHARING_ANNOTATIONS = ("lbipam.cilium.io/sharing-key", "io.cilium/lb-ipam-sharing-key")
CILIUM_CROSS_NAMESPACE_ANNOTATIONS = (
    "lbipam.cilium.io/sharing-cross-namespace",
    "io.cilium/lb-ipam-sharing-cross-namespace",
)


def _q(text: str) -> str:
    """A string quoted as Go's %q quotes it (MetalLB's messages)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Refused(Exception):
    """An allocation that cannot be made: ``reason`` (Cilium's condition reason) and the controller's words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class Pool:
    name: str
    ranges: list[tuple[Address, Address]]
    created: str = ""
    auto_assign: bool = True
    avoid_buggy: bool = False
    disabled: bool = False
    selector: dict[str, Any] | None = None

    def addresses(self) -> Iterator[Address]:
        for first, last in self.ranges:
            current = int(first)
            while current <= int(last):
                address = ipaddress.ip_address(current)
                current += 1
                if self.avoid_buggy and address.version == 4 and address.packed[-1] in (0, 255):
                    continue
                yield address

    def contains(self, address: Address) -> bool:
        if self.avoid_buggy and address.version == 4 and address.packed[-1] in (0, 255):
            return False
        return any(
            int(first) <= int(address) <= int(last) for first, last in self.ranges if first.version == address.version
        )


def metallb_pool(item: dict[str, Any]) -> Pool:
    """An IPAddressPool: ``spec.addresses`` holds CIDRs and ``first-last`` ranges, all addresses usable."""
    spec = item.get("spec") or {}
    ranges: list[tuple[Address, Address]] = []
    for entry in spec.get("addresses") or []:
        text = str(entry).strip()
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            ranges.append((network.network_address, network.broadcast_address))
        else:
            first, last = text.partition("-")[::2]
            ranges.append((ipaddress.ip_address(first.strip()), ipaddress.ip_address((last or first).strip())))
    return Pool(
        name=item["metadata"]["name"],
        ranges=ranges,
        created=item["metadata"].get("creationTimestamp") or "",
        auto_assign=spec.get("autoAssign", True) is not False,
        avoid_buggy=bool(spec.get("avoidBuggyIPs")),
    )


def cilium_pool(item: dict[str, Any]) -> Pool:
    """A CiliumLoadBalancerIPPool: ``spec.blocks`` of ``cidr`` or ``start``/``stop``; ``allowFirstLastIPs: "No"``
    reserves a CIDR's first and last address (not for /31, /32, /127, /128)."""
    spec = item.get("spec") or {}
    ranges: list[tuple[Address, Address]] = []
    for block in spec.get("blocks") or []:
        if block.get("cidr"):
            network = ipaddress.ip_network(str(block["cidr"]), strict=False)
            first, last = network.network_address, network.broadcast_address
            if spec.get("allowFirstLastIPs") == "No" and network.max_prefixlen - network.prefixlen > 1:
                first, last = first + 1, last - 1
            ranges.append((first, last))
        elif block.get("start"):
            start = ipaddress.ip_address(str(block["start"]))
            ranges.append((start, ipaddress.ip_address(str(block.get("stop") or block["start"]))))
    return Pool(
        name=item["metadata"]["name"],
        ranges=ranges,
        created=item["metadata"].get("creationTimestamp") or "",
        disabled=bool(spec.get("disabled")),
        selector=spec.get("serviceSelector"),
    )


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A Kubernetes LabelSelector: no selector selects everything."""
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


@dataclass
class Service:
    namespace: str
    name: str
    uid: str
    created: str
    controller: str | None
    annotations: dict[str, str]
    labels: dict[str, str]
    ports: set[tuple[str, int]]
    selector: dict[str, str]
    local_traffic: bool
    load_balancer_ip: str
    current: list[str]

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def annotation(self, *names: str) -> str:
        return next((self.annotations[name] for name in names if name in self.annotations), "")

    @property
    def sharing_key(self) -> str:
        if self.controller == METALLB:
            return self.annotations.get(METALLB_SHARING_ANNOTATION, "")
        return self.annotation(*CILIUM_SHARING_ANNOTATIONS)


def controller_of(item: dict[str, Any], metallb_on: bool, cilium_on: bool) -> str | None:
    spec = item.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return None
    lb_class = spec.get("loadBalancerClass")
    if lb_class is None:
        return METALLB if metallb_on else (CILIUM if cilium_on else None)
    return CILIUM if lb_class in CILIUM_CLASSES and cilium_on else None


def service(item: dict[str, Any], controller: str | None) -> Service:
    metadata, spec = item["metadata"], item.get("spec") or {}
    status = (item.get("status") or {}).get("loadBalancer") or {}
    return Service(
        namespace=metadata["namespace"],
        name=metadata["name"],
        uid=metadata.get("uid", ""),
        created=metadata.get("creationTimestamp") or "",
        controller=controller,
        annotations=dict(metadata.get("annotations") or {}),
        labels=dict(metadata.get("labels") or {}),
        ports={(str(p.get("protocol") or "TCP"), int(p["port"])) for p in spec.get("ports") or []},
        selector=dict(spec.get("selector") or {}),
        local_traffic=spec.get("externalTrafficPolicy") == "Local",
        load_balancer_ip=str(spec.get("loadBalancerIP") or ""),
        current=[str(i["ip"]) for i in status.get("ingress") or [] if i.get("ip")],
    )


@dataclass
class Decision:
    """The outcome for one Service: its address (or None), the pool, and when it has none, why."""

    controller: str
    address: str | None = None
    pool: str | None = None
    reason: str = ""
    message: str = ""
    new: bool = False  # allocated in this round (MetalLB reports it with an IPAllocated event)


@dataclass
class _Holders:
    by_address: dict[Address, list[Service]] = field(default_factory=dict)

    def of(self, address: Address) -> list[Service]:
        return self.by_address.get(address, [])

    def add(self, address: Address, svc: Service) -> None:
        self.by_address.setdefault(address, []).append(svc)


def _share_problem(svc: Service, others: list[Service], address: Address) -> Refused | None:
    """Why ``svc`` may not share ``address`` with ``others`` (None when it may), in its controller's words."""
    others = [other for other in others if other.key != svc.key]
    if not others:
        return None
    cilium = svc.controller == CILIUM
    for other in others:
        if not svc.sharing_key or not other.sharing_key or svc.sharing_key != other.sharing_key:
            if cilium:
                return Refused(
                    "already_allocated_incompatible_service" if svc.sharing_key else "already_allocated",
                    f"The IP '{address}' is already allocated to an incompatible service. Reason: different sharing key"
                    if svc.sharing_key
                    else f"The IP '{address}' is already allocated to another service",
                )
            users = ",".join(o.key for o in others)
            return Refused(
                "AllocationFailed", f"can't change sharing key for {_q(svc.key)}, address also in use by {users}"
            )
        if (svc.local_traffic or other.local_traffic) and svc.selector != other.selector:
            return Refused(
                "already_allocated_incompatible_service",
                f"The IP '{address}' is already allocated to an incompatible service. Reason: different backends"
                if cilium
                else f"backend key of {_q(svc.key)} does not match the one of {other.key}",
            )
        if cilium and svc.namespace != other.namespace:
            allowed = svc.annotation(*CILIUM_CROSS_NAMESPACE_ANNOTATIONS).split(",")
            theirs = other.annotation(*CILIUM_CROSS_NAMESPACE_ANNOTATIONS).split(",")
            if not ({other.namespace, "*"} & set(allowed) and {svc.namespace, "*"} & set(theirs)):
                return Refused(
                    "already_allocated_incompatible_service",
                    f"The IP '{address}' is already allocated to an incompatible service. Reason: different namespace",
                )
        clash = sorted(svc.ports & other.ports)
        if clash:
            protocol, port = clash[0]
            return Refused(
                "already_allocated_incompatible_service",
                f"The IP '{address}' is already allocated to an incompatible service. Reason: port {port}/{protocol} "
                "is already in use"
                if cilium
                else f"port {protocol}/{port} is already in use on {_q(str(address))}",
            )
    return None


def _requested(svc: Service) -> list[Address]:
    """The addresses the Service asks for; a malformed one is refused as the controller refuses it."""
    names = (METALLB_IPS_ANNOTATION,) if svc.controller == METALLB else CILIUM_IPS_ANNOTATIONS
    text = svc.annotation(*names)
    if svc.controller == METALLB and text and svc.load_balancer_ip:
        raise Refused(
            "AllocationFailed", f"service can not have both {METALLB_IPS_ANNOTATION} and svc.Spec.LoadBalancerIP"
        )
    found: list[Address] = []
    for word in [svc.load_balancer_ip, *text.split(",")]:
        if not word.strip():
            continue
        try:
            found.append(ipaddress.ip_address(word.strip()))
        except ValueError:
            raise Refused("AllocationFailed", f"invalid {names[0]}: {_q(text)}") from None
    return found


class _Planner:
    def __init__(self, metallb: list[Pool], cilium: list[Pool]) -> None:
        self.metallb = sorted(metallb, key=lambda p: p.name)
        self.cilium = self._without_conflicts(cilium)
        self.holders = _Holders()

    @staticmethod
    def _without_conflicts(pools: list[Pool]) -> list[Pool]:
        """Cilium marks a pool that overlaps an older one as conflicting and allocates nothing from it."""
        kept: list[Pool] = []
        for pool in sorted(pools, key=lambda p: (p.created, p.name)):
            overlaps = any(
                a.version == c.version and int(a) <= int(d) and int(c) <= int(b)
                for k in kept
                for a, b in k.ranges
                for c, d in pool.ranges
            )
            if not overlaps:
                kept.append(pool)
        return sorted(kept, key=lambda p: p.name)

    def _labels(self, svc: Service) -> dict[str, str]:
        return {
            **svc.labels,
            "io.kubernetes.service.namespace": svc.namespace,
            "io.kubernetes.service.name": svc.name,
        }

    def pool_of(self, svc: Service, address: Address, keeping: bool = False) -> Pool | None:
        """The pool that may give ``address`` to ``svc``: MetalLB any pool holding it (the one pinned when
        pinned); Cilium a pool that selects the Service (a disabled pool keeps what it gave)."""
        if svc.controller == METALLB:
            pool = next((p for p in self.metallb if p.contains(address)), None)
            pinned = svc.annotations.get(METALLB_POOL_ANNOTATION)
            return pool if pool and (not pinned or pool.name == pinned) else None
        labels = self._labels(svc)
        return next(
            (
                p
                for p in self.cilium
                if p.contains(address) and (keeping or not p.disabled) and selector_matches(p.selector, labels)
            ),
            None,
        )

    def keep(self, svc: Service) -> Decision | None:
        """The address the Service already has, when still valid for it."""
        try:
            requested = _requested(svc)
        except Refused:
            return None
        for text in svc.current[:1]:
            address = ipaddress.ip_address(text)
            pool = self.pool_of(svc, address, keeping=True)
            if pool is None or (requested and address not in requested):
                return None
            if _share_problem(svc, self.holders.of(address), address) is not None:
                return None
            self.holders.add(address, svc)
            return Decision(svc.controller or "", str(address), pool.name)
        return None

    def allocate(self, svc: Service) -> Decision:
        if svc.controller is None:
            raise ValueError(f"{svc.key} is served by no controller")
        try:
            address, pool = self._metallb(svc) if svc.controller == METALLB else self._cilium(svc)
        except Refused as refused:
            if svc.controller == METALLB:
                message = f"Failed to allocate IP for {_q(svc.key)}: {refused}"
                return Decision(METALLB, reason="AllocationFailed", message=message)
            return Decision(CILIUM, reason=refused.reason, message=refused.message)
        self.holders.add(address, svc)
        reason = "satisfied" if svc.controller == CILIUM else ""
        return Decision(svc.controller, str(address), pool.name, reason=reason, new=True)

    def _metallb(self, svc: Service) -> tuple[Address, Pool]:
        pinned = svc.annotations.get(METALLB_POOL_ANNOTATION, "")
        requested = _requested(svc)
        if requested:
            address = requested[0]
            pool = next((p for p in self.metallb if p.contains(address)), None)
            if pool is None:
                raise Refused("AllocationFailed", f"{_q(str(address))} is not allowed in config")
            problem = _share_problem(svc, self.holders.of(address), address)
            if problem:
                raise problem
            if pinned and pool.name != pinned:
                raise Refused(
                    "AllocationFailed",
                    f"requested loadBalancer IP(s) [{_q(str(address))}] is not compatible with requested address pool "
                    f"{pinned}",
                )
            return address, pool
        if pinned:
            pool = next((p for p in self.metallb if p.name == pinned), None)
            if pool is None:
                raise Refused("AllocationFailed", f'unknown pool "{pinned}"')
            found = self._first_free(svc, [pool])
            if found is None:
                raise Refused("AllocationFailed", f'no available IPs in pool "{pinned}"')
            return found
        found = self._first_free(svc, [p for p in self.metallb if p.auto_assign])
        if found is None:
            raise Refused("AllocationFailed", "no available IPs")
        return found

    def _cilium(self, svc: Service) -> tuple[Address, Pool]:
        requested = _requested(svc)
        labels = self._labels(svc)
        if requested:
            address = requested[0]
            pool = self.pool_of(svc, address)
            if pool is None:
                if any(p.contains(address) and not p.disabled for p in self.cilium):
                    raise Refused(
                        "pool_selector_mismatch",
                        f"The pool with the CIDR containing '{address}', doesn't select this service",
                    )
                raise Refused("no_pool", f"No pool exists with a CIDR containing '{address}'")
            problem = _share_problem(svc, self.holders.of(address), address)
            if problem:
                raise problem
            return address, pool
        if svc.sharing_key:
            for address, users in self.holders.by_address.items():
                if users and all(u.controller == CILIUM for u in users) and users[0].sharing_key == svc.sharing_key:
                    if _share_problem(svc, users, address) is None:
                        pool = self.pool_of(svc, address, keeping=True)
                        if pool is not None:
                            return address, pool
        matching = [p for p in self.cilium if not p.disabled and selector_matches(p.selector, labels)]
        if not matching:
            raise Refused("no_pool", "There are no enabled CiliumLoadBalancerIPPools that match this service")
        found = self._first_free(svc, matching, shareable=False)
        if found is None:
            raise Refused(
                "out_of_ips", "All enabled CiliumLoadBalancerIPPools that match this service ran out of allocatable IPs"
            )
        return found

    def _first_free(self, svc: Service, pools: list[Pool], shareable: bool = True) -> tuple[Address, Pool] | None:
        """The first address of the pools (in order) that ``svc`` may take: unused, or (MetalLB) shareable."""
        for pool in pools:
            for address in pool.addresses():
                users = self.holders.of(address)
                if not users or (shareable and _share_problem(svc, users, address) is None):
                    return address, pool
        return None


def plan(services: list[Service], metallb: list[Pool], cilium: list[Pool]) -> dict[str, Decision]:
    """The decision for every Service that MetalLB or Cilium serves, keyed ``namespace/name``."""
    planner = _Planner(metallb, cilium)
    served = sorted((s for s in services if s.controller), key=lambda s: (s.created, s.namespace, s.name))
    decisions: dict[str, Decision] = {}
    for svc in served:
        kept = planner.keep(svc)
        if kept is not None:
            kept.reason = "satisfied" if svc.controller == CILIUM else ""
            decisions[svc.key] = kept
    for svc in served:
        if svc.key not in decisions:
            decisions[svc.key] = planner.allocate(svc)
    return decisions
