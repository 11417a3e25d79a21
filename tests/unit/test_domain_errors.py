"""DomainError values: HTTP mapping and the JSON body clients read."""

from orchestrator.domain.errors import Conflict, DomainError, NotFound, ValidationError, describe_value


def test_validation_error_maps_to_400_with_validation_code():
    error = ValidationError("owner: missing (required)", field="owner")

    assert (error.http_status, error.code) == (400, "VALIDATION_ERROR")


def test_not_found_maps_to_404():
    assert (NotFound("gone").http_status, NotFound("gone").code) == (404, "NOT_FOUND")


def test_conflict_maps_to_409():
    assert (Conflict("busy").http_status, Conflict("busy").code) == (409, "CONFLICT")


def test_every_domain_error_is_a_domain_error():
    assert all(issubclass(kind, DomainError) for kind in (ValidationError, NotFound, Conflict))


def test_to_dict_carries_field_and_allowed_values():
    error = ValidationError("method: expected one of EMAIL, HTTP", field="method", allowed=("EMAIL", "HTTP"))

    assert error.to_dict() == {"error": "method: expected one of EMAIL, HTTP", "code": "VALIDATION_ERROR",
                               "field": "method", "allowed": ["EMAIL", "HTTP"]}


def test_to_dict_leaves_out_field_and_allowed_when_unknown():
    assert Conflict("BUILD_AMI is in progress").to_dict() == {"error": "BUILD_AMI is in progress",
                                                               "code": "CONFLICT"}


def test_message_is_the_exception_text():
    assert str(NotFound("lifecycle x not found")) == "lifecycle x not found"


def test_describe_value_truncates_long_strings_so_errors_never_echo_documents():
    described = describe_value("x" * 500)

    assert len(described) < 70 and described.endswith("...'")


def test_describe_value_names_the_kind_of_non_strings():
    assert [describe_value(v) for v in (None, True, 3, [], {}, "  ")] == [
        "null", "boolean true", "number 3", "a list", "an object", "an empty string"]
