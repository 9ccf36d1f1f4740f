"""botocore's data files (service models, endpoints, rulesets), read and parsed once per process
and shared by every session: a sweep opens one session per account, and each would otherwise
parse them again (~0.1 s of CPU each). And what they say of a region: its partition."""

from __future__ import annotations

import functools
import gc
import gzip
import json
import os
from typing import Any

import botocore.loaders
import botocore.regions
from botocore.exceptions import DataNotFoundError, UnknownRegionError


class ModelFileLoader(botocore.loaders.JSONFileLoader):
    """botocore's JSON data files, parsed faster: into plain dicts (ordered, as every dict is;
    botocore builds OrderedDicts, ~2.5 times slower) and with the cyclic garbage collector paused.
    A model is a tree of many thousand dicts and lists that all live on in the loader's cache,
    and the collector would walk them again and again while they are built: the endpoint data
    (1.2 MB) costs a command ~40 ms of CPU as botocore parses it, ~8 ms so."""

    def load_file(self, file_path: str) -> Any:
        for extension, opener in ((".json", open), (".json.gz", gzip.open)):
            path = file_path + extension
            if os.path.isfile(path):
                with opener(path, "rb") as fp:
                    payload = fp.read().decode("utf-8")
                return _parsed(payload)
        return None


def _parsed(payload: str) -> Any:
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(payload)
    finally:
        if enabled:
            gc.enable()


class ModelLoader(botocore.loaders.Loader):
    """botocore's loader, except how it checks that a service exists.

    botocore lists every service it has data for (some 400 directories, and each one's API
    versions) before loading any model, once per kind of model: ~25 ms of CPU at every run of
    every command, for a check that only matters when the name is wrong. This loader looks in
    the service's own directory; a service that has no such model is handed to botocore's own
    way, whose error names the services it knows.
    """

    def __init__(self, extra_search_paths: list[str] | None = None) -> None:
        super().__init__(extra_search_paths=extra_search_paths, file_loader=ModelFileLoader())

    @botocore.loaders.instance_cache
    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:
        try:
            version = api_version or self.determine_latest_version(service_name, type_name)
            # botocore's own steps after its check (not in its stubs); a botocore without them
            # gets its own way.
            find_extras = self._find_extras  # type: ignore[attr-defined]
            process_extras = self._extras_processor.process  # type: ignore[attr-defined]
        except (DataNotFoundError, AttributeError):
            return super().load_service_model(service_name, type_name, api_version)
        model = self.load_data(os.path.join(service_name, version, type_name))
        process_extras(model, find_extras(service_name, type_name, version))
        return model


def model_loader(data_path: str | None = None) -> ModelLoader:
    """The loader of every session whose ``data_path`` (``AWS_DATA_PATH``, or the config's
    ``data_path``: more directories of models) is this one. Its cache is thread-safe as
    botocore's is: a model read twice at once is parsed twice, and either copy kept."""
    # One key for "none", however it is asked for: model_loader() and model_loader(None) would
    # be two entries of a cache, two loaders, and the endpoint data parsed twice.
    return _model_loader(data_path or None)


@functools.cache
def _model_loader(data_path: str | None) -> ModelLoader:
    paths = data_path.split(os.pathsep) if data_path else []
    # As botocore's create_loader reads the setting.
    return ModelLoader(
        extra_search_paths=[os.path.expanduser(os.path.expandvars(p)) for p in paths],
    )


@functools.cache
def partition_of_region(region: str) -> str:
    """The partition a region belongs to (``aws``, ``aws-us-gov``, ``aws-cn``, ``aws-eusc``,
    ``aws-iso-*``...), from botocore's endpoint data; ``aws`` for a region it does not know.

    Cached: parsing the endpoint data costs ~25 ms of CPU, and a sweep makes a session per
    account. Read through the sessions' loader, not a session: the data is parsed once for
    both, and a session would look the AWS profile up first, which has nothing to do with
    which partition a region is in."""
    resolver = botocore.regions.EndpointResolver(model_loader().load_data("endpoints"))
    try:
        return str(resolver.get_partition_for_region(region))
    except UnknownRegionError:
        return "aws"
