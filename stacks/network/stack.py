"""AmiLifecycleNetwork: the VPC image builds and test instances run in."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from stacks.settings import Settings


class NetworkStack(cdk.Stack):
    """One public and one private (NAT egress) subnet per availability zone.

    Image Builder and the test instances live in the private subnets and
    reach package repositories through the NAT gateway."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        vpc_settings = settings.vpc
        self.vpc = ec2.Vpc(
            self,
            "ami-lifecycle-vpc",
            ip_addresses=ec2.IpAddresses.cidr(vpc_settings.cidr),
            max_azs=vpc_settings.max_azs,
            nat_gateways=1,
            # Every security group of the product is its own; the default
            # group is never attached. Restricting it would need CDK's
            # custom-resource Lambda for no practical gain.
            restrict_default_security_group=False,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="ami-lifecycle-subnet-public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=vpc_settings.subnet_mask,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name="ami-lifecycle-subnet-private",
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                    cidr_mask=vpc_settings.subnet_mask,
                ),
            ],
        )
        self.private_subnet = self.vpc.private_subnets[0]

        cdk.CfnOutput(self, "vpcId", value=self.vpc.vpc_id, description="VPC of the AMI lifecycle")
        cdk.CfnOutput(self, "vpcPublicSubnetId", value=self.vpc.public_subnets[0].subnet_id,
                      description="Public subnet (NAT gateway)")
        cdk.CfnOutput(self, "vpcPrivateSubnetId", value=self.private_subnet.subnet_id,
                      description="Private subnet of image builds and test instances")
