"""The resource type tokens the rules look at."""

from __future__ import annotations

# Current azure-native v3 type tokens first; the v2 tokens are kept because they are still aliases
# of the same resources and an older program (or a future rename back) would otherwise slip past.
KEY_VAULT = ("azure-native:keyvault:Vault",)


WEB_APPS = ("azure-native:web:WebApp", "azure-native:web:WebAppSlot")


APP_SETTINGS_RESOURCES = (
    "azure-native:web:WebAppApplicationSettings",
    "azure-native:web:WebAppApplicationSettingsSlot",
)


AUTOSCALE_SETTING = ("azure-native:monitor:AutoscaleSetting", "azure-native:insights:AutoscaleSetting")


TRAFFIC_MANAGER_PROFILE = ("azure-native:trafficmanager:Profile", "azure-native:network:Profile")


TRAFFIC_MANAGER_ENDPOINT = ("azure-native:trafficmanager:Endpoint", "azure-native:network:Endpoint")


DEPLOYMENT = ("kubernetes:apps/v1:Deployment",)


HORIZONTAL_POD_AUTOSCALER = ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler",)


WEB_APP = "azure-native:web:WebApp"


SUBNET = ("azure-native:network:Subnet",)


USER_ASSIGNED_IDENTITY = ("azure-native:managedidentity:UserAssignedIdentity",)


ROLE_ASSIGNMENT = ("azure-native:authorization:RoleAssignment",)


SCHEDULED_QUERY_RULE = ("azure-native:monitor:ScheduledQueryRule", "azure-native:insights:ScheduledQueryRule")


APPLICATION_INSIGHTS = ("azure-native:applicationinsights:Component", "azure-native:insights:Component")


WORKBOOK = ("azure-native:applicationinsights:Workbook", "azure-native:insights:Workbook")


FRONT_DOOR_PROFILE = ("azure-native:cdn:Profile",)


FRONT_DOOR_ORIGIN = ("azure-native:cdn:AFDOrigin",)


FRONT_DOOR_ORIGIN_GROUP = ("azure-native:cdn:AFDOriginGroup",)


# Basic (publishing-credential) authentication policies per site and per slot, by flag (scm, ftp).
PUBLISHING_POLICIES = {
    "scm": ("azure-native:web:WebAppScmAllowed", "azure-native:web:WebAppScmAllowedSlot"),
    "ftp": ("azure-native:web:WebAppFtpAllowed", "azure-native:web:WebAppFtpAllowedSlot"),
}
