"""Stagewise's components, one per module: `from stagewise.components import BlueGreenDeployment`.

Each component takes `(name, args, opts=None)`; its Args class documents the inputs.
"""

from .app_identity import AppIdentity, AppIdentityArgs
from .autoscale import Autoscale, AutoscaleArgs
from .blue_green_deployment import BlueGreenDeployment, BlueGreenDeploymentArgs
from .blue_green_web_app import BlueGreenWebApp, BlueGreenWebAppArgs, ImagePull
from .cluster_environment import ClusterEnvironment, ClusterEnvironmentArgs
from .container_registry import ContainerRegistry, ContainerRegistryArgs
from .environment import Environment, EnvironmentArgs
from .front_door import FrontDoor, FrontDoorArgs
from .front_door_profile import FrontDoorProfile, FrontDoorProfileArgs
from .grant_propagation import GrantPropagation, GrantPropagationArgs
from .reference_check import ReferenceCheck, ReferenceCheckArgs
from .region_network import RegionNetwork, RegionNetworkArgs
from .rollout_alerts import RolloutAlerts, RolloutAlertsArgs
from .rollout_workbook import RolloutWorkbook, RolloutWorkbookArgs
from .secret_vault import SecretVault, SecretVaultArgs
from .traffic_split import TrafficSplit, TrafficSplitArgs

__all__ = [
    "AppIdentity",
    "AppIdentityArgs",
    "Autoscale",
    "AutoscaleArgs",
    "BlueGreenDeployment",
    "BlueGreenDeploymentArgs",
    "BlueGreenWebApp",
    "BlueGreenWebAppArgs",
    "ClusterEnvironment",
    "ClusterEnvironmentArgs",
    "ContainerRegistry",
    "ContainerRegistryArgs",
    "Environment",
    "EnvironmentArgs",
    "FrontDoor",
    "FrontDoorArgs",
    "FrontDoorProfile",
    "FrontDoorProfileArgs",
    "GrantPropagation",
    "GrantPropagationArgs",
    "ImagePull",
    "ReferenceCheck",
    "ReferenceCheckArgs",
    "RegionNetwork",
    "RegionNetworkArgs",
    "RolloutAlerts",
    "RolloutAlertsArgs",
    "RolloutWorkbook",
    "RolloutWorkbookArgs",
    "SecretVault",
    "SecretVaultArgs",
    "TrafficSplit",
    "TrafficSplitArgs",
]
