using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace DeskSync.Emulator.Desk;

/// <summary>
/// Deterministic sample data: the same seed and counts give the same portal. Custom fields of
/// every Zoho type, with labels that are hard on a database (spaces, punctuation, non-ASCII,
/// SQL-looking text, names differing only in case). Records are spread over the two years
/// before the emulator's "now", ordered by createdTime.
/// </summary>
internal sealed partial class PortalGenerator
{
    private static readonly string[] Statuses = ["Open", "On Hold", "Escalated", "Closed"];
    private static readonly string[] Priorities = ["High", "Medium", "Low"];
    private static readonly string[] Channels = ["Email", "Phone", "Web", "Chat", "Forums"];
    private static readonly string[] Categories = ["General", "Billing", "Technical", "Returns"];
    private static readonly string[] FirstNames = ["Ana", "Bo", "Chen", "Dana", "Émile", "Farah", "Goro", "Hana", "Ivan", "Jo", "Kwame", "Lena", "Maya", "Noor", "Olu", "Priya"];
    private static readonly string[] LastNames = ["Smith", "García", "Tanaka", "Okafor", "Müller", "Singh", "O'Brien", "Kowalski", "Nguyen", "Haddad"];

    private static readonly string[] CfModules = ["tickets", "contacts", "accounts", "tasks", "contracts", "products", "calls", "events"];

    private readonly EmulatorOptions _options;
    private readonly Portal _portal;
    private readonly Random _random;
    private readonly DateTimeOffset _now;
    private long _nextId;
    private int _ticketNumber = 100;

    public PortalGenerator(EmulatorOptions options, Portal portal)
    {
        _options = options;
        _portal = portal;
        _random = new Random(options.Seed);
        _now = options.DataAnchor ?? new DateTimeOffset(options.Time.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero);
        _nextId = (1_000_000L + (options.Seed % 9_000_000)) * 1_000_000_000L;
    }

    public string NextId() => (_nextId += _random.Next(1, 40)).ToString(CultureInfo.InvariantCulture);

    public JsonObject Organization() => new()
    {
        ["id"] = _options.OrgId,
        ["companyName"] = "Acme Support Ltd.",
        ["portalName"] = _options.PortalName,
        ["portalURL"] = $"https://desk.zoho.com/portal/{_options.PortalName}",
        ["edition"] = _options.Edition.ToUpperInvariant(),
        ["alias"] = "Acme",
        ["description"] = "Emulated Zoho Desk portal",
        ["city"] = "Chennai",
        ["state"] = "Tamil Nadu",
        ["country"] = "India",
        ["street"] = "1 Example Street",
        ["zip"] = "600001",
        ["fax"] = "",
        ["mobile"] = "",
        ["phoneNumber"] = "+91 44 0000 0000",
        ["website"] = "www.example.com",
        ["currencyCode"] = "USD",
        ["currencyLocale"] = "en_US",
        ["currencySymbol"] = "$",
        ["employeeCount"] = "50",
        ["faviconURL"] = null,
        ["logoURL"] = null,
        ["primaryContact"] = "admin@example.com",
        ["isAdminInOrg"] = true,
        ["isDefault"] = true,
        ["isPayloadEncryptionEnabled"] = false,
        ["isSandboxPortal"] = false,
    };

    public void Populate()
    {
        foreach (var module in CfModules)
        {
            foreach (var field in StandardFields(module))
            {
                _portal.AddField(module, field);
            }

            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (label, type) in CustomFieldKinds)
            {
                var field = FieldDefinition(label, ApiName(label, used), type, custom: true);
                field["id"] = NextId();
                _portal.AddField(module, field);
            }
        }

        var c = _options.Counts;
        Seed("departments", c.Departments);
        Seed("agents", c.Agents);
        Seed("teams", c.Teams);
        Seed("accounts", c.Accounts);
        Seed("contacts", c.Contacts);
        Seed("products", c.Products);
        Seed("contracts", c.Contracts);
        Seed("tickets", c.Tickets);
        LengthenConversations(c.LongConversations);
        Seed("tasks", c.Tasks);
        Seed("calls", c.Calls);
        Seed("events", c.Events);
    }

    public JsonObject NewRecord(string module, DateTimeOffset created) => module switch
    {
        "tickets" => Ticket(created),
        "departments" => Department(created),
        "products" => Product(created),
        "contracts" => Contract(created),
        "contacts" => Contact(created),
        "accounts" => Account(created),
        "agents" => Agent(created),
        "teams" => Team(created),
        "tasks" => Task(created),
        "calls" => Call(created),
        "events" => Event(created),
        _ => throw new ArgumentException($"unknown module {module}", nameof(module)),
    };

    /// <summary>customFields (by label) mirrors cf (by API name).</summary>
    /// <summary>Zoho's status type follows the status: Closed and On Hold are their own types, every other status is Open.</summary>
    public static string StatusType(string? status) => status switch { "Closed" => "Closed", "On Hold" => "On Hold", _ => "Open" };

    /// <summary>What follows from a record's own fields after a change: its status type, its custom fields by label.</summary>
    public void SyncDerivedFields(string module, JsonObject record)
    {
        if (module == "tickets" && record["status"] is JsonValue status && status.TryGetValue<string>(out var text))
        {
            record["statusType"] = StatusType(text);
        }

        SyncCustomFields(module, record);
    }


    /// <summary>A few tickets with more than a thousand threads (a long-running incident, a mailing loop), spread over the table.</summary>
    private void LengthenConversations(int count)
    {
        var tickets = _portal.List("tickets");
        for (var i = 0; i < count && tickets.Count > 0; i++)
        {
            var ticket = tickets[(int)((i + 0.5) * tickets.Count / count)].DeepClone().AsObject();
            ticket["threadCount"] = LongConversationThreads.ToString(CultureInfo.InvariantCulture);
            _portal.Reseed("tickets", ticket);
        }
    }

    /// <summary>Threads of a long conversation: past the 5,000-row offset wall of one list.</summary>
    public const int LongConversationThreads = 5_600;

    private void Seed(string module, int count)
    {
        // Spread createdTime over the two years before "now", ascending.
        var span = TimeSpan.FromDays(730).Ticks;
        var times = Enumerable.Range(0, count).Select(_ => _random.NextInt64(span)).Order().ToArray();
        foreach (var offset in times)
        {
            var created = _now - TimeSpan.FromDays(731) + TimeSpan.FromTicks(offset);
            created = new DateTimeOffset(created.Ticks - (created.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
            var record = NewRecord(module, created);
            SyncCustomFields(module, record);
            _portal.Seed(module, record);
        }
    }


    private DateTimeOffset Modified(DateTimeOffset created)
    {
        var room = (_now - created).Ticks;
        var offset = _random.Next(3) == 0 ? 0 : _random.NextInt64(Math.Max(1, room));
        var t = created + TimeSpan.FromTicks(offset);
        return new DateTimeOffset(t.Ticks - (t.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }

    private JsonObject? PickRecord(string module)
    {
        var list = _portal.List(module);
        return list.Count == 0 ? null : list[_random.Next(list.Count)];
    }

    private string Pick(string[] values) => values[_random.Next(values.Length)];

    private static string? Id(JsonObject? record) => record?["id"]?.GetValue<string>();

    private static string Ascii(string s) => new([.. s.Normalize(NormalizationForm.FormD).ToLowerInvariant().Where(c => c is >= 'a' and <= 'z')]);
}
