"""What every lifecycle event's state machine shares.

An event is one construct (a subclass of :class:`LifecycleEvent`) that
declares which events it serves, its Lambda steps and its definition. The
base class gives it, the same way for every event:

* functions declared through the one :class:`FunctionFactory`;
* Lambda steps that retry Lambda's transient errors with backoff and send any
  other error to the error receiver (:meth:`LifecycleEvent.invoke`);
* the error report: the caught error goes to the error receiver queue (an
  SQS integration, no Lambda in between), then the execution fails, so the
  lifecycle's status always says why an event ended;
* the result hand-over: the result goes to the creation or patch receiver
  queue with a task token, and the execution waits until the receiver has
  recorded it (:meth:`LifecycleEvent.send_result`);
* the state machine itself: execution log group, X-Ray tracing, timeout,
  and its ARN as a stack output under the product's historical key.

The stack keeps the event constructs in an :class:`EventRegistry`; one loop
there grants every state machine to the functions that start events and
answer task tokens, and gives them the map event name -> state machine ARN.

Definitions stay in JSONPath (the local cloud's interpreter does not run
JSONata). Every execution input is a plain JSON object with at least
``lifecycle_id``, ``stack_tag``, ``event``, ``operation_type`` and
``attempt`` (see ``orchestrator.domain.events``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.amilifecycle.functions import FunctionFactory
from stacks.amilifecycle.logs import LifecycleLogGroups
from stacks.vocabulary import EventName, LifecycleType, definition

# Lambda's own transient failures, retried with backoff on every Lambda step.
LAMBDA_SERVICE_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
# The variable that gives a function the map event name -> state machine ARN.
STATE_MACHINES_VARIABLE = "EVENT_STATE_MACHINES_JSON"


def state_machine_log_group_name(stack_tag: str, log_name: str) -> str:
    """Execution log of one event's state machine (``/aws/vendedlogs/`` keeps the
    log group's resource policy small when Step Functions delivers to it)."""
    return f"/aws/vendedlogs/states/{stack_tag}/ami-lifecycle-{log_name}"


@dataclass(frozen=True)
class EventProps:
    """What every event construct uses from the stack, passed explicitly."""

    stack_tag: str
    functions: FunctionFactory
    log_groups: LifecycleLogGroups
    creation_receiver: sqs.IQueue
    patch_receiver: sqs.IQueue
    error_receiver: sqs.IQueue
    receiver_timeout: cdk.Duration

    def receiver_for(self, lifecycle_type: LifecycleType) -> sqs.IQueue:
        return self.creation_receiver if lifecycle_type is LifecycleType.AMI_CREATION else self.patch_receiver


class LifecycleEvent(Construct):
    """One state machine serving one or more lifecycle events.

    A subclass sets the class attributes; its constructor calls
    ``super().__init__``, declares its functions (:meth:`function`) and other
    resources, chains its steps (:meth:`invoke`, :meth:`send_result`,
    :attr:`report_error`) and ends with :meth:`finish`.
    """

    #: The events this state machine runs (a shared one runs a creation and a patch event).
    events: ClassVar[tuple[EventName, ...]]
    #: What the state machine does, for its description.
    summary: ClassVar[str]
    #: Short name in log group names (``build``, ``smoke-tests``).
    log_name: ClassVar[str]
    #: Construct id of the state machine (the product's historical ids).
    state_machine_id: ClassVar[str]
    #: Stack output key holding the state machine's ARN (the product's historical keys).
    output_key: ClassVar[str]
    #: Error name of the execution's final failure.
    failure_error: ClassVar[str]

    def __init__(self, scope: Construct, construct_id: str, *, props: EventProps, timeout: cdk.Duration) -> None:
        super().__init__(scope, construct_id)
        self.props = props
        self.timeout = timeout
        self.functions: dict[str, lambda_.Function] = {}
        self._report_error: sfn.IChainable | None = None

    def finish(self, definition: sfn.IChainable) -> sfn.StateMachine:
        """Create the state machine from ``definition`` (its first state, chained to the rest) and publish
        its ARN; subclasses call this last in their constructor."""
        self.state_machine = self._state_machine(definition)
        output = cdk.CfnOutput(self, self.output_key, value=self.state_machine.state_machine_arn,
                               description=f"ARN of the {' / '.join(self.events)} state machine")
        output.override_logical_id(self.output_key)
        return self.state_machine

    # ------------------------------------------------------------- functions

    def function(self, construct_id: str, *, handler: str, description: str,
                 environment: Mapping[str, str] | None = None,
                 timeout: cdk.Duration = cdk.Duration.seconds(30)) -> lambda_.Function:
        """A Lambda step function of this event (through the one function factory)."""
        function = self.props.functions.function(construct_id, handler=handler, description=description,
                                                 environment=environment, timeout=timeout)
        self.functions[construct_id] = function
        return function

    def grant_task_responses(self, *functions: lambda_.Function) -> None:
        """Let ``functions`` answer this state machine's task tokens.

        A separate policy, not the roles' default ones: a step function's
        default policy is a dependency of the function, the state machine
        depends on the function, and this grant names the state machine.
        """
        policy = iam.Policy(self, "TaskResponsePolicy", statements=[iam.PolicyStatement(
            actions=["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"],
            resources=[self.state_machine.state_machine_arn],
        )])
        for function in functions:
            assert function.role is not None
            policy.attach_to_role(function.role)

    # ----------------------------------------------------------------- steps

    def invoke(self, name: str, function: lambda_.IFunction, *, payload: Mapping[str, Any], result_path: str,
               catch_errors: bool = True, wait_for_token: bool = False,
               timeout: cdk.Duration | None = None) -> tasks.LambdaInvoke:
        """A Lambda step that retries Lambda's transient errors and reports any other error.

        The step's result is the function's return value (or, waiting for a
        token, the output the token was answered with), stored at
        ``result_path`` so the execution input stays intact. A step that
        must route some errors elsewhere first passes ``catch_errors=False``
        and adds its catches itself, ending with :meth:`catch_all`
        (catchers match in the order added).
        """
        step = tasks.LambdaInvoke(
            self, name,
            lambda_function=function,
            payload=sfn.TaskInput.from_object(dict(payload)),
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN if wait_for_token else None,
            payload_response_only=None if wait_for_token else True,
            result_path=result_path,
            retry_on_service_exceptions=False,
            task_timeout=sfn.Timeout.duration(timeout) if timeout is not None else None,
        )
        step.add_retry(errors=list(LAMBDA_SERVICE_ERRORS), interval=cdk.Duration.seconds(2), max_attempts=6,
                       backoff_rate=2, max_delay=cdk.Duration.seconds(60), jitter_strategy=sfn.JitterType.FULL)
        if catch_errors:
            self.catch_all(step)
        return step

    def catch_all(self, step: sfn.TaskStateBase | sfn.Parallel) -> None:
        """Send every error of ``step`` not caught before to the error report."""
        step.add_catch(self.report_error, errors=[sfn.Errors.ALL], result_path="$.error")

    @property
    def report_error(self) -> sfn.IChainable:
        """Send the caught error (at ``$.error``) to the error receiver queue, then fail the execution."""
        if self._report_error is None:
            report = tasks.SqsSendMessage(
                self, "Report the event error",
                queue=self.props.error_receiver,
                message_body=sfn.TaskInput.from_object({
                    "lifecycle_id": sfn.JsonPath.string_at("$.lifecycle_id"),
                    "name": self._event_name_path(),
                    "status": "ERROR",
                    "status_date": sfn.JsonPath.string_at("$$.State.EnteredTime"),
                    "execution_arn": sfn.JsonPath.string_at("$$.Execution.Id"),
                    "error": sfn.JsonPath.object_at("$.error"),
                }),
                result_path=sfn.JsonPath.DISCARD,
            )
            report.add_retry(errors=[sfn.Errors.ALL], interval=cdk.Duration.seconds(2), max_attempts=4,
                             backoff_rate=2)
            self._report_error = report.next(sfn.Fail(
                self, "Event failure", error=self.failure_error,
                cause=f"The {' / '.join(self.events)} event failed; the lifecycle's status holds the reason"))
        return self._report_error

    def send_result(self, result_path: str = "$.result") -> sfn.IChainable:
        """Hand the result at ``result_path`` to the receiver of the execution's lifecycle type, wait
        until it is recorded, then succeed."""
        succeed = sfn.Succeed(self, "Event success", comment="The receiver recorded the result")
        lifecycle_types = sorted({_lifecycle_type(event) for event in self.events})
        senders = {}
        for lifecycle_type in lifecycle_types:
            label = "creation" if lifecycle_type is LifecycleType.AMI_CREATION else "patch"
            send = tasks.SqsSendMessage(
                self, f"Send the result to the {label} receiver",
                queue=self.props.receiver_for(lifecycle_type),
                message_body=sfn.TaskInput.from_object({
                    "task_token": sfn.JsonPath.task_token,
                    "task_details": {"value": sfn.JsonPath.object_at(result_path)},
                }),
                integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
                task_timeout=sfn.Timeout.duration(self.props.receiver_timeout),
                result_path="$.receiver",
            )
            self.catch_all(send)
            send.next(succeed)
            senders[lifecycle_type] = send
        if len(senders) == 1:
            return next(iter(senders.values()))
        return (sfn.Choice(self, "Which receiver records the result?")
                .when(sfn.Condition.string_equals("$.operation_type", str(LifecycleType.AMI_PATCH)),
                      senders[LifecycleType.AMI_PATCH])
                .otherwise(senders[LifecycleType.AMI_CREATION]))

    # -------------------------------------------------------------- internals

    def _event_name_path(self) -> str:
        """The event's name in error reports: fixed for a one-event state machine, else from the input."""
        if len(self.events) == 1:
            return str(self.events[0])
        return sfn.JsonPath.string_at("$.event")

    def _state_machine(self, definition: sfn.IChainable) -> sfn.StateMachine:
        log_group = self.props.log_groups.log_group(
            f"{self.state_machine_id}LogGroup", state_machine_log_group_name(self.props.stack_tag, self.log_name))
        return sfn.StateMachine(
            self,
            self.state_machine_id,
            comment=f"{' / '.join(self.events)}: {self.summary}",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=self.timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ERROR, include_execution_data=False),
        )


def _lifecycle_type(event: EventName) -> LifecycleType:
    return definition(event).lifecycle_type


class EventRegistry:
    """Every event construct of the deployment, and the one place that wires them to the functions."""

    def __init__(self, events: Iterable[LifecycleEvent]) -> None:
        self.events: tuple[LifecycleEvent, ...] = tuple(events)
        served = [name for event in self.events for name in event.events]
        duplicates = sorted({name for name in served if served.count(name) > 1})
        if duplicates:
            raise ValueError(f"events served by more than one state machine: {', '.join(duplicates)}")

    def __iter__(self):
        return iter(self.events)

    def by_event(self, name: EventName) -> LifecycleEvent:
        for event in self.events:
            if name in event.events:
                return event
        raise KeyError(name)

    def state_machine_arns(self) -> dict[str, str]:
        """Event name -> ARN of the state machine that runs it (CDK tokens until deployment)."""
        return {str(name): event.state_machine.state_machine_arn for event in self.events for name in event.events}

    def grant_start(self, function: lambda_.Function) -> None:
        """``function`` starts events: it may start every state machine and knows their ARNs."""
        for event in self.events:
            event.state_machine.grant_start_execution(function)
        function.add_environment(STATE_MACHINES_VARIABLE, cdk.Stack.of(function).to_json_string(
            self.state_machine_arns()))

    def grant_task_response(self, function: lambda_.Function) -> None:
        """``function`` answers the task tokens of every state machine (the receivers)."""
        for event in self.events:
            event.state_machine.grant_task_response(function)
