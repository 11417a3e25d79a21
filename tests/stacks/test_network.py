"""AmiLifecycleNetwork: the VPC the builds and test instances run in."""

from aws_cdk.assertions import Match

from tests.stacks.helpers import output_keys, resources


def test_vpc_uses_the_configured_cidr(templates, settings):
    templates["AmiLifecycleNetwork"].has_resource_properties(
        "AWS::EC2::VPC", {"CidrBlock": settings.vpc.cidr, "EnableDnsHostnames": True, "EnableDnsSupport": True}
    )


def test_one_public_and_one_private_subnet_per_zone(templates, settings):
    subnets = resources(templates["AmiLifecycleNetwork"], "AWS::EC2::Subnet")
    assert len(subnets) == 2 * settings.vpc.max_azs
    masks = {s["Properties"]["CidrBlock"].split("/")[1] for s in subnets.values()}
    assert masks == {str(settings.vpc.subnet_mask)}


def test_public_subnets_do_not_hand_out_public_ips(templates):
    for subnet in resources(templates["AmiLifecycleNetwork"], "AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def test_private_subnets_reach_out_through_one_nat_gateway(templates):
    template = templates["AmiLifecycleNetwork"]
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    template.resource_count_is("AWS::EC2::EIP", 1)
    template.resource_count_is("AWS::EC2::InternetGateway", 1)
    template.has_resource_properties(
        "AWS::EC2::Route", {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": Match.any_value()}
    )


def test_outputs_name_the_vpc_and_subnets(templates):
    assert {"vpcId", "vpcPublicSubnetId", "vpcPrivateSubnetId"} <= output_keys(templates["AmiLifecycleNetwork"])
