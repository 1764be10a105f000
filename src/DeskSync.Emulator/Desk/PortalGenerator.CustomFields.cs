using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace DeskSync.Emulator.Desk;

/// <summary>Field definitions and custom-field values, with labels that are hard on a database.</summary>
internal sealed partial class PortalGenerator
{
    /// <summary>(label, Zoho type) of the custom fields each module gets.</summary>
    private static readonly (string Label, string Type)[] CustomFieldKinds =
    [
        ("Customer refund, IF ANY?", "Text"),
        ("日期 1", "Date"),
        ("Order #", "Number"),
        ("Renewal Date/Time", "DateTime"),
        ("Discount (%)", "Percent"),
        ("Weight kg.", "Decimal"),
        ("Contract Value $", "Currency"),
        ("VIP?", "Boolean"),
        ("Region", "Picklist"),
        ("region", "Text"),
        ("Tags: product lines", "Multiselect"),
        ("Notes", "Textarea"),
        ("Long Notes", "LargeText"),
        ("Backup e-mail", "Email"),
        ("Alt. phone", "Phone"),
        ("Fax line", "Fax"),
        ("Homepage URL", "URL"),
        ("Linked account", "LookUp"),
        ("x'); DROP TABLE tickets; --", "Text"),
    ];

    private static readonly string[] Regions = ["North", "South", "East", "West", "Ünited Kingdom"];
    private static readonly string[] ProductLines = ["Hardware", "Software", "Services"];

    public void SyncCustomFields(string module, JsonObject record)
    {
        if (record["cf"] is not JsonObject cf)
        {
            return;
        }

        var byLabel = new JsonObject();
        foreach (var field in _portal.Fields(module).Where(f => f["isCustomField"]?.GetValue<bool>() == true))
        {
            var api = field["apiName"]!.GetValue<string>();
            if (cf.ContainsKey(api))
            {
                byLabel[field["displayLabel"]!.GetValue<string>()] = cf[api]?.DeepClone();
            }
        }

        record["customFields"] = byLabel;
    }

    private JsonObject CustomValues(string module)
    {
        var cf = new JsonObject();
        foreach (var field in _portal.Fields(module).Where(f => f["isCustomField"]?.GetValue<bool>() == true))
        {
            var api = field["apiName"]!.GetValue<string>();
            // About one value in six is empty, as in real portals.
            cf[api] = _random.Next(6) == 0 ? null : CustomValue(field["type"]!.GetValue<string>());
        }

        return cf;
    }

    /// <summary>Zoho sends every cf value as a string (booleans "true"/"false", numbers as text).</summary>
    private string CustomValue(string type) => type switch
    {
        "Date" => _now.AddDays(-_random.Next(0, 700)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        "DateTime" => Portal.Iso(_now.AddMinutes(-_random.Next(0, 1_000_000))),
        "Number" => _random.Next(0, 100000).ToString(CultureInfo.InvariantCulture),
        "Percent" => _random.Next(0, 101).ToString(CultureInfo.InvariantCulture),
        "Decimal" => (_random.Next(0, 1000000) / 100.0).ToString("0.00", CultureInfo.InvariantCulture),
        "Currency" => (_random.Next(0, 10000000) / 100.0).ToString("0.00", CultureInfo.InvariantCulture),
        "Boolean" => _random.Next(2) == 0 ? "true" : "false",
        "Picklist" => Pick(Regions),
        "Multiselect" => string.Join(';', ProductLines.Where(_ => _random.Next(2) == 0).DefaultIfEmpty(ProductLines[0])),
        "Email" => $"backup{_random.Next(1000)}@example.net",
        "Phone" or "Fax" => "+44 20 7946 " + _random.Next(1000, 9999).ToString(CultureInfo.InvariantCulture),
        "URL" => $"https://example.com/p/{_random.Next(1000)}",
        "LookUp" => _portal.List("accounts") is { Count: > 0 } accounts ? Id(accounts[_random.Next(accounts.Count)])! : "0",
        // Zoho's schemas cap cf values at 100 characters in list and detail answers.
        "LargeText" => new StringBuilder().Insert(0, "Long text – ", 7).ToString(),
        "Textarea" => "Line one\nLine two, with \"quotes\" and 'apostrophes'",
        _ => Pick(["Yes, full refund", "No", "Partial — 50%", "n/a", "返金なし"]),
    };

    private static JsonObject FieldDefinition(string label, string apiName, string type, bool custom)
    {
        var field = new JsonObject
        {
            ["id"] = null,
            ["apiName"] = apiName,
            ["displayLabel"] = label,
            ["i18NLabel"] = label,
            ["name"] = apiName,
            ["type"] = type,
            ["isCustomField"] = custom,
            ["isMandatory"] = false,
            ["isEncryptedField"] = false,
            ["isTrackLastActivityTime"] = false,
            ["maxLength"] = type switch { "Textarea" => 65535, "LargeText" => 50000, _ => 255 },
        };
        switch (type)
        {
            case "Picklist":
                field["allowedValues"] = new JsonArray(Regions.Select(r => (JsonNode)new JsonObject { ["value"] = r }).ToArray());
                break;
            case "Multiselect":
                field["allowedValues"] = new JsonArray(ProductLines.Select(r => (JsonNode)new JsonObject { ["value"] = r }).ToArray());
                break;
            case "Decimal" or "Percent":
                field["decimalPlaces"] = 2;
                break;
            case "Currency":
                field["decimalPlaces"] = 2;
                field["roundingOption"] = "normal";
                field["roundingPrecision"] = 2;
                break;
        }

        return field;
    }

    private IEnumerable<JsonObject> StandardFields(string module)
    {
        var names = module switch
        {
            "tickets" => new[] { ("Subject", "subject", "Text"), ("Status", "status", "Picklist"), ("Priority", "priority", "Picklist"), ("Channel", "channel", "Picklist"), ("Email", "email", "Email"), ("Phone", "phone", "Phone"), ("Due Date", "dueDate", "DateTime"), ("Description", "description", "Textarea") },
            "contacts" => [("First Name", "firstName", "Text"), ("Last Name", "lastName", "Text"), ("Email", "email", "Email"), ("Phone", "phone", "Phone")],
            "accounts" => [("Account Name", "accountName", "Text"), ("Website", "website", "URL"), ("Phone", "phone", "Phone")],
            "tasks" => [("Subject", "subject", "Text"), ("Due Date", "dueDate", "DateTime"), ("Priority", "priority", "Picklist")],
            "contracts" => [("Contract Name", "contractName", "Text"), ("Start Date", "startDate", "Date"), ("End Date", "endDate", "Date")],
            "calls" => [("Subject", "subject", "Text"), ("Call Start Time", "startTime", "DateTime"), ("Direction", "direction", "Picklist"), ("Priority", "priority", "Picklist")],
            "events" => [("Subject", "subject", "Text"), ("Start Time", "startTime", "DateTime"), ("Category", "category", "Picklist"), ("Priority", "priority", "Picklist")],
            _ => [("Product Name", "productName", "Text"), ("Product Code", "productCode", "Text"), ("Unit Price", "unitPrice", "Currency")],
        };
        foreach (var (label, api, type) in names)
        {
            var field = FieldDefinition(label, api, type, custom: false);
            field["id"] = NextId();
            if (type == "Picklist" && field["allowedValues"] is JsonArray)
            {
                field["allowedValues"] = new JsonArray(
                    (api switch { "status" => Statuses, "priority" => Priorities, "channel" => Channels, _ => Priorities })
                    .Select(v => (JsonNode)new JsonObject { ["value"] = v }).ToArray());
            }

            yield return field;
        }
    }

    /// <summary>Zoho derives cf_ API names from the label; non-ASCII labels get a generic name.</summary>
    private static string ApiName(string label, HashSet<string> used)
    {
        var sb = new StringBuilder("cf_");
        foreach (var ch in label.ToLowerInvariant())
        {
            sb.Append(ch is >= 'a' and <= 'z' or >= '0' and <= '9' ? ch : '_');
        }

        var name = System.Text.RegularExpressions.Regex.Replace(sb.ToString(), "_+", "_").TrimEnd('_');
        if (name.Length <= 4 || name.Count(c => c != '_') < 4)
        {
            name = "cf_field";
        }

        var unique = name;
        for (var n = 1; !used.Add(unique); n++)
        {
            unique = $"{name}_{n}";
        }

        return unique;
    }
}
