"""The Front Door profile, its own component so that the sites can read its ID before the origins exist."""

from stagewise.components.front_door_profile import FrontDoorProfile, FrontDoorProfileArgs
from stagewise.tools import evaluate
from tests.components.conftest import only


def test_the_profile_keeps_its_urn_from_when_front_door_was_its_parent(record, monkeypatch):
    # A stack deployed before had the profile under FrontDoor "edge" (a child of the stack): without the alias the
    # engine would replace the profile, and with it the endpoint's host name.
    specs = []
    register = evaluate._RecordingMonitor.RegisterResource

    def spy(self, request):
        if request.type == "azure-native:cdn:Profile":
            specs.extend(a.spec for a in request.aliases if not a.spec.type)
        return register(self, request)

    monkeypatch.setattr(evaluate._RecordingMonitor, "RegisterResource", spy)
    ev = record(lambda: FrontDoorProfile("edge", FrontDoorProfileArgs(resource_group_name="rg")) and None)
    profile = only(ev, "azure-native:cdn:Profile")
    assert profile.name == "edge-profile" and profile.inputs["sku"] == {"name": "Standard_AzureFrontDoor"}
    (spec,) = specs
    assert spec.name == "" and spec.parentUrn.endswith("::stagewise:front_door:FrontDoor::edge")
    assert spec.parentUrn.count("::") == 3  # the old parent was a child of the stack itself
