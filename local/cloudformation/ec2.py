"""Deletion for the EC2 networking types of a CDK VPC stack.

moto creates these resources from a template but most of them have no
CloudFormation delete: deleting the stack leaves route tables, an attached
internet gateway, a NAT gateway and its address behind, and the VPC then
refuses to go ("has dependencies"). :func:`install` gives each type the
``delete`` CloudFormation calls, done with the EC2 backend's own
operations (the stack's delete loop retries until the order works out).
"""

from __future__ import annotations

from typing import Any

from moto.backends import get_backend
from moto.ec2.models.elastic_ip_addresses import ElasticAddress
from moto.ec2.models.internet_gateways import InternetGateway
from moto.ec2.models.nat_gateways import NatGateway
from moto.ec2.models.route_tables import Route, RouteTable
from moto.ec2.models.subnets import SubnetRouteTableAssociation
from moto.ec2.models.vpn_gateway import VPCGatewayAttachment


def _ec2(account_id: str, region_name: str) -> Any:
    return get_backend("ec2")[account_id][region_name]


def _delete_route_table(self: RouteTable, account_id: str, region_name: str) -> None:
    backend = _ec2(account_id, region_name)
    if self.id in backend.route_tables:
        backend.delete_route_table(self.id)


def _delete_route(self: Route, account_id: str, region_name: str) -> None:
    backend = _ec2(account_id, region_name)
    table = backend.route_tables.get(self.route_table.id)
    if table is not None and self.id in table._routes:
        del table._routes[self.id]


def _delete_association(self: SubnetRouteTableAssociation, account_id: str, region_name: str) -> None:
    table = _ec2(account_id, region_name).route_tables.get(self.route_table_id)
    if table is None:
        return
    for association_id, subnet_id in list(table._associations.items()):
        if subnet_id == self.subnet_id:
            del table._associations[association_id]


def _delete_internet_gateway(self: InternetGateway, account_id: str, region_name: str) -> None:
    backend = _ec2(account_id, region_name)
    if self.id in backend.internet_gateways:
        # A gateway still attached waits for its attachment's deletion.
        backend.delete_internet_gateway(self.id)


def _delete_gateway_attachment(self: VPCGatewayAttachment, account_id: str, region_name: str) -> None:
    backend = _ec2(account_id, region_name)
    gateway = backend.internet_gateways.get(self.gateway_id) if self.gateway_id else None
    if gateway is not None and gateway.vpc is not None and gateway.vpc.id == self.vpc_id:
        backend.detach_internet_gateway(self.gateway_id, self.vpc_id)
    elif self.gateway_id and self.gateway_id in backend.vpn_gateways:
        if self.vpc_id in backend.vpn_gateways[self.gateway_id].attachments:
            backend.detach_vpn_gateway(self.gateway_id, self.vpc_id)


def _delete_nat_gateway(self: NatGateway, account_id: str, region_name: str) -> None:
    backend = _ec2(account_id, region_name)
    if self.state == "deleted":
        return
    for address in list(backend.addresses):
        if address.eni is self._eni:
            backend.disassociate_address(address=address.public_ip)
    if self._eni.id in backend.enis:
        backend.delete_network_interface(self._eni.id)
    backend.delete_nat_gateway(self.id)


def _release_address(self: ElasticAddress, account_id: str, region_name: str) -> None:
    backend = _ec2(account_id, region_name)
    if self in backend.addresses:
        backend.release_address(address=self.public_ip)


_DELETERS = {
    RouteTable: _delete_route_table,
    Route: _delete_route,
    SubnetRouteTableAssociation: _delete_association,
    InternetGateway: _delete_internet_gateway,
    VPCGatewayAttachment: _delete_gateway_attachment,
    NatGateway: _delete_nat_gateway,
    ElasticAddress: _release_address,
}


def install() -> None:
    for model, deleter in _DELETERS.items():
        model.delete = deleter  # type: ignore[attr-defined]
