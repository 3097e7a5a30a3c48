"""Every physical resource name of a lakehouse, derived in one place from its base name.

The base name is ``<namePrefix>-<stack>`` (``medallion-dev``). The program names resources with
:class:`Names`; the deploy role (``infra.delivery``) grants on the same names with ``*`` in
place of a layer or role, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

#: Glue 5 writes a job's logs below ``/aws-glue/<job name>`` (``/error``, ``/output``).
GLUE_LOG_ROOT = "/aws-glue"


@dataclass(frozen=True)
class Names:
    """Physical names below one base name; ``*`` as a layer or role gives the IAM pattern."""

    base: str

    def bucket(
        self, role: str, account_id: pulumi.Input[str], region: pulumi.Input[str]
    ) -> pulumi.Output[str]:
        """``<base>-<role>-<account>-<region>``: globally unique, known before it exists."""
        return pulumi.Output.concat(self.bucket_prefix, role, "-", account_id, "-", region)

    @property
    def bucket_prefix(self) -> str:
        """What every bucket name of the lakehouse starts with."""
        return f"{self.base}-"

    def database(self, layer: str) -> str:
        """``<base>_<layer>`` with ``_`` for ``-``: Athena wants no dashes in database names."""
        return f"{self.base.replace('-', '_')}_{layer}"

    def job(self, layer: str) -> str:
        return f"{self.base}-{layer}"

    def log_group_prefix(self, layer: str) -> str:
        """``/aws-glue/<job name>`` of the layer's job."""
        return log_group_prefix(self.job(layer))

    @property
    def key_alias(self) -> str:
        return f"alias/{self.base}"

    @property
    def security_configuration(self) -> str:
        return f"{self.base}-glue"

    @property
    def workflow(self) -> str:
        """The daily bronze -> silver -> gold workflow."""
        return self.base

    @property
    def maintenance_workflow(self) -> str:
        return f"{self.base}-maintenance"

    @property
    def start_trigger(self) -> str:
        return f"{self.base}-start"

    def step_trigger(self, layer: str, previous: str) -> str:
        """The trigger starting ``layer`` once ``previous`` succeeded."""
        return f"{self.base}-{layer}-after-{previous}"

    @property
    def maintenance_trigger(self) -> str:
        return f"{self.base}-maintenance-start"

    @property
    def workgroup(self) -> str:
        return self.base


def log_group_prefix(job_name: str) -> str:
    """``/aws-glue/<job name>``: Glue 5 appends ``/error`` and ``/output``."""
    return f"{GLUE_LOG_ROOT}/{job_name}"
