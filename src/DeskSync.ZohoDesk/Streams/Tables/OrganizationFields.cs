using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>The field definitions of every module read (Field.json, organizationFields?module=).</summary>
    public static readonly DeskStream OrganizationFields = new("organization_fields", "OrganizationFields", "organizationFields", 0, null, F(
        ("id", T), ("module", T), ("apiName", T), ("displayLabel", T), ("i18NLabel", T), ("name", T), ("type", T),
        ("isCustomField", B), ("isMandatory", B), ("isEncryptedField", B), ("maxLength", I), ("decimalPlaces", I),
        ("allowedValues", J)))
    {
        Read = new FieldDefinitionsRead(),
        Scopes = ["Desk.settings.ALL"],
    };
}
