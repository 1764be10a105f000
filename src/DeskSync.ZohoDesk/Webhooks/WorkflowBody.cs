using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace DeskSync.ZohoDesk.Webhooks;

/// <summary>Finds the record in whatever a workflow rule or custom function posted (facts page §5, workflow-rule variant).</summary>
public static partial class WorkflowBody
{
    private static readonly (string Key, string Module)[] IdKeys =
    [
        ("ticketId", "Ticket"), ("contactId", "Contact"), ("accountId", "Account"), ("taskId", "Task"),
        ("id", ""), ("entityId", ""), ("recordId", ""),
    ];

    /// <summary>Top-level (and one level nested) fields of a JSON or form body; other text as "text".</summary>
    public static Dictionary<string, string> Fields(byte[] body, string? contentType)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var text = Encoding.UTF8.GetString(body);
        if (contentType?.Contains("form-urlencoded", StringComparison.OrdinalIgnoreCase) == true)
        {
            foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                var key = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
                fields.TryAdd(key, eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' ')));
            }

            return fields;
        }

        try
        {
            using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            Collect(doc.RootElement, fields, 0);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            fields["text"] = text;
        }

        return fields;
    }

    public static (string Module, string? Id) FindRecord(IReadOnlyDictionary<string, string> fields)
    {
        var module = ModuleOf(fields.GetValueOrDefault("module") ?? fields.GetValueOrDefault("moduleName") ?? fields.GetValueOrDefault("entity")) ?? "Ticket";
        foreach (var (key, keyModule) in IdKeys)
        {
            if (fields.TryGetValue(key, out var value) && ZohoId().Match(value) is { Success: true } m && m.Value == value.Trim())
            {
                return (keyModule.Length > 0 ? keyModule : module, m.Value);
            }
        }

        foreach (var value in fields.Values)
        {
            if (ZohoId().Match(value) is { Success: true } m)
            {
                return (module, m.Value);
            }
        }

        return (module, null);
    }

    private static string? ModuleOf(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "tickets" or "ticket" => "Ticket",
        "contacts" or "contact" => "Contact",
        "accounts" or "account" => "Account",
        "tasks" or "task" => "Task",
        _ => null,
    };

    private static void Collect(JsonElement element, Dictionary<string, string> fields, int depth)
    {
        if (element.ValueKind != JsonValueKind.Object || depth > 1)
        {
            if (element.ValueKind == JsonValueKind.String && depth == 0)
            {
                fields["text"] = element.GetString()!;
            }

            return;
        }

        foreach (var property in element.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String:
                    fields.TryAdd(property.Name, property.Value.GetString()!);
                    break;
                case JsonValueKind.Number:
                    fields.TryAdd(property.Name, property.Value.GetRawText());
                    break;
                case JsonValueKind.Object:
                    Collect(property.Value, fields, depth + 1);
                    break;
            }
        }
    }

    /// <summary>Zoho record ids are 15 to 19 digit numbers.</summary>
    [GeneratedRegex(@"(?<!\d)\d{15,19}(?!\d)")]
    private static partial Regex ZohoId();
}
