"""The lakehouse as Dagster runs see it: where the catalog and the data files are, and which province
this deployment publishes as. Resolved from the settings when the definitions load (`CDS_LAKE_*`,
`CDS_PROVINCE_CODE`); the default is the embedded catalog next to the warehouse (no server)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from lakehouse.catalog import NAMESPACE, LakeSettings
from pipelines.resources import resolve_province, run_province


class LakeResource(dg.ConfigurableResource):
    """`catalog_uri` empty = the embedded SQLite catalog in `folder`; `province_code` empty = the
    province of the school registry; `{province}` = the run's province (multi-province deployment)."""

    folder: str
    catalog_uri: str = ""
    warehouse_uri: str = ""
    namespace: str = NAMESPACE
    province_code: str = ""
    _province: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._province = run_province(context)

    @property
    def province(self) -> str:
        """The province this run publishes as (empty = the province of the school registry)."""
        return resolve_province(self.province_code, self._province)

    def settings(self) -> LakeSettings:
        if not self.catalog_uri:
            return LakeSettings.embedded(Path(self.folder)).model_copy(update={"namespace": self.namespace})
        warehouse = self.warehouse_uri or (Path(self.folder).resolve() / "warehouse").as_uri()
        return LakeSettings(catalog_uri=self.catalog_uri, warehouse=warehouse, namespace=self.namespace)
