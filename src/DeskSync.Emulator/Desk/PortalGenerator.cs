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
internal sealed class PortalGenerator
{
    private static readonly string[] Statuses = ["Open", "On Hold", "Escalated", "Closed"];
    private static readonly string[] Priorities = ["High", "Medium", "Low"];
    private static readonly string[] Channels = ["Email", "Phone", "Web", "Chat", "Forums"];
    private static readonly string[] Categories = ["General", "Billing", "Technical", "Returns"];
    private static readonly string[] FirstNames = ["Ana", "Bo", "Chen", "Dana", "Émile", "Farah", "Goro", "Hana", "Ivan", "Jo", "Kwame", "Lena", "Maya", "Noor", "Olu", "Priya"];
    private static readonly string[] LastNames = ["Smith", "García", "Tanaka", "Okafor", "Müller", "Singh", "O'Brien", "Kowalski", "Nguyen", "Haddad"];

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
    private static readonly string[] CfModules = ["tickets", "contacts", "accounts", "tasks", "contracts", "products"];

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
        Seed("tasks", c.Tasks);
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

    private JsonObject Ticket(DateTimeOffset created)
    {
        var id = NextId();
        var status = Pick(Statuses);
        var dept = PickRecord("departments");
        var contact = PickRecord("contacts");
        var product = PickRecord("products");
        var agent = PickRecord("agents");
        var team = PickRecord("teams");
        var account = contact?["accountId"]?.GetValue<string>() is { } aid ? _portal.Get("accounts", aid) : null;
        var modified = Modified(created);
        var number = (++_ticketNumber).ToString(CultureInfo.InvariantCulture);
        var email = contact?["email"]?.GetValue<string>();
        return new JsonObject
        {
            ["id"] = id,
            ["ticketNumber"] = number,
            ["subject"] = $"{Pick(["Cannot log in", "Refund request", "Broken item", "Question about invoice", "Feature request"])} #{number}",
            ["description"] = $"<div>Customer wrote about ticket {number}. Ünïcödé and \"quotes\".</div>",
            ["status"] = status,
            ["statusType"] = StatusType(status),
            ["priority"] = Pick(Priorities),
            ["channel"] = Pick(Channels),
            ["channelCode"] = null,
            ["category"] = Pick(Categories),
            ["subCategory"] = null,
            ["classification"] = Pick(["Question", "Problem", "Request", "Others"]),
            ["language"] = "English",
            ["departmentId"] = Id(dept),
            ["department"] = dept is null ? null : new JsonObject { ["id"] = Id(dept), ["name"] = dept["name"]!.GetValue<string>() },
            ["contactId"] = Id(contact),
            ["contact"] = contact is null ? null : new JsonObject
            {
                ["id"] = Id(contact),
                ["firstName"] = contact["firstName"]?.GetValue<string>(),
                ["lastName"] = contact["lastName"]?.GetValue<string>(),
                ["email"] = email,
                ["phone"] = contact["phone"]?.GetValue<string>(),
                ["mobile"] = contact["mobile"]?.GetValue<string>(),
                ["type"] = null,
                ["isSpam"] = false,
                ["account"] = account is null ? null : new JsonObject
                {
                    ["id"] = Id(account),
                    ["accountName"] = account["accountName"]?.GetValue<string>(),
                    ["website"] = account["website"]?.GetValue<string>(),
                },
            },
            ["accountId"] = Id(account),
            ["productId"] = Id(product),
            ["product"] = product is null ? null : new JsonObject { ["id"] = Id(product), ["productName"] = product["productName"]?.GetValue<string>() },
            ["assigneeId"] = Id(agent),
            ["assignee"] = agent is null ? null : new JsonObject
            {
                ["id"] = Id(agent),
                ["firstName"] = agent["firstName"]?.GetValue<string>(),
                ["lastName"] = agent["lastName"]?.GetValue<string>(),
                ["email"] = agent["emailId"]?.GetValue<string>(),
                ["emailId"] = agent["emailId"]?.GetValue<string>(),
                ["photoURL"] = null,
                ["zuid"] = agent["zuid"]?.GetValue<string>(),
            },
            ["teamId"] = Id(team),
            ["team"] = team is null ? null : new JsonObject { ["id"] = Id(team), ["name"] = team["name"]?.GetValue<string>(), ["logoUrl"] = null },
            ["email"] = email,
            ["phone"] = contact?["phone"]?.GetValue<string>(),
            ["resolution"] = status == "Closed" ? "Resolved by replacing the part." : null,
            ["createdTime"] = Portal.Iso(created),
            ["modifiedTime"] = Portal.Iso(modified),
            ["createdBy"] = Id(agent),
            ["modifiedBy"] = Id(agent),
            ["dueDate"] = Portal.Iso(created.AddDays(3)),
            ["responseDueDate"] = null,
            ["closedTime"] = status == "Closed" ? Portal.Iso(modified) : null,
            ["onholdTime"] = status == "On Hold" ? Portal.Iso(modified) : null,
            ["customerResponseTime"] = Portal.Iso(created),
            ["isDeleted"] = false,
            ["isTrashed"] = false,
            ["isSpam"] = false,
            ["isArchived"] = false,
            ["isEscalated"] = status == "Escalated",
            ["isOverDue"] = false,
            ["isResponseOverdue"] = false,
            ["isRead"] = _random.Next(2) == 0,
            ["isFollowing"] = false,
            ["threadCount"] = _random.Next(1, 12).ToString(CultureInfo.InvariantCulture),
            ["commentCount"] = _random.Next(0, 4).ToString(CultureInfo.InvariantCulture),
            ["taskCount"] = "0",
            ["attachmentCount"] = "0",
            ["approvalCount"] = "0",
            ["timeEntryCount"] = "0",
            ["followerCount"] = "0",
            ["tagCount"] = "0",
            ["childTicketCount"] = "0",
            ["sentiment"] = Pick(["POSITIVE", "NEUTRAL", "NEGATIVE"]),
            ["webUrl"] = $"https://desk.zoho.com/support/{_options.PortalName}/ShowHomePage.do#Cases/dv/{id}",
            ["layoutId"] = "1000000000001",
            ["layoutDetails"] = new JsonObject { ["id"] = "1000000000001", ["layoutName"] = "Default Ticket Layout" },
            ["slaId"] = null,
            ["contractId"] = null,
            ["secondaryContacts"] = new JsonArray(),
            ["sharedDepartments"] = new JsonArray(),
            ["entitySkills"] = new JsonArray(),
            ["source"] = new JsonObject { ["appName"] = null, ["extId"] = null, ["type"] = "SYSTEM", ["permalink"] = null, ["appPhotoURL"] = null },
            ["channelRelatedInfo"] = null,
            ["lastThread"] = new JsonObject { ["channel"] = "EMAIL", ["isDraft"] = false, ["isForward"] = false, ["direction"] = "in" },
            ["relationshipType"] = "None",
            ["cf"] = CustomValues("tickets"),
        };
    }

    private JsonObject Department(DateTimeOffset created)
    {
        var id = NextId();
        var name = Pick(["Support", "Sales", "Billing", "Returns & Repairs", "Support – EMEA"]) + " " + (_portal.Count("departments") + 1).ToString(CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["id"] = id,
            ["name"] = name,
            ["nameInCustomerPortal"] = name,
            ["sanitizedName"] = name.ToLowerInvariant().Replace(' ', '-'),
            ["description"] = $"The {name} team",
            ["isEnabled"] = true,
            ["isDefault"] = _portal.Count("departments") == 0,
            ["isVisibleInCustomerPortal"] = true,
            ["isAssignToTeamEnabled"] = true,
            ["hasLogo"] = false,
            ["chatStatus"] = "NOT_CREATED",
            ["creatorId"] = "1000000000010",
            ["createdTime"] = Portal.Iso(created),
        };
    }

    private JsonObject Agent(DateTimeOffset created)
    {
        var first = Pick(FirstNames);
        var last = Pick(LastNames);
        var id = NextId();
        return new JsonObject
        {
            ["id"] = id,
            ["firstName"] = first,
            ["lastName"] = last,
            ["name"] = $"{first} {last}",
            ["emailId"] = $"{Ascii(first)}.{Ascii(last)}{id[^4..]}@example.com",
            ["phone"] = null,
            ["mobile"] = null,
            ["zuid"] = (700000000L + _random.Next(1, 99999999)).ToString(CultureInfo.InvariantCulture),
            ["photoURL"] = null,
            ["roleId"] = "1000000000101",
            ["profileId"] = "1000000000201",
            ["timeZone"] = "Asia/Kolkata",
            ["langCode"] = "en_US",
            ["status"] = "ACTIVE",
            ["isConfirmed"] = true,
            ["isZiaAgent"] = false,
            ["rolePermissionType"] = "AgentPublic",
            ["associatedDepartmentIds"] = new JsonArray(_portal.List("departments").Select(d => (JsonNode)Id(d)!).ToArray()),
            ["createdTime"] = Portal.Iso(created),
        };
    }

    private JsonObject Team(DateTimeOffset created)
    {
        var dept = PickRecord("departments");
        return new JsonObject
        {
            ["id"] = NextId(),
            ["name"] = Pick(["Tier 1", "Tier 2", "Escalations", "Night shift"]) + " " + (_portal.Count("teams") + 1).ToString(CultureInfo.InvariantCulture),
            ["description"] = "Team",
            ["departmentId"] = Id(dept),
            ["roles"] = new JsonArray(),
            ["subTeams"] = new JsonArray(),
            ["derivedAgents"] = new JsonArray(_portal.List("agents").Take(3).Select(a => (JsonNode)Id(a)!).ToArray()),
            ["logoUrl"] = null,
            ["createdTime"] = Portal.Iso(created),
        };
    }

    private JsonObject Account(DateTimeOffset created)
    {
        var id = NextId();
        var name = Pick(["Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Soylent", "Ünicorn"]) + " " + Pick(["Corp", "Ltd", "GmbH", "S.A.", "株式会社"]) + " " + id[^3..];
        return new JsonObject
        {
            ["id"] = id,
            ["accountName"] = name,
            ["email"] = $"info{id[^5..]}@example.com",
            ["phone"] = "+1 555 0100",
            ["website"] = $"https://www.example{id[^4..]}.com",
            ["industry"] = Pick(["Retail", "Manufacturing", "Software"]),
            ["ownerId"] = Id(PickRecord("agents")),
            ["createdTime"] = Portal.Iso(created),
            ["modifiedTime"] = Portal.Iso(Modified(created)),
            ["webUrl"] = $"https://desk.zoho.com/support/{_options.PortalName}/ShowHomePage.do#Accounts/dv/{id}",
            ["customerHappiness"] = new JsonObject { ["badPercentage"] = "0", ["okPercentage"] = "0", ["goodPercentage"] = "100" },
            ["zohoCRMAccount"] = null,
            ["cf"] = CustomValues("accounts"),
        };
    }

    private JsonObject Contact(DateTimeOffset created)
    {
        var id = NextId();
        var first = Pick(FirstNames);
        var last = Pick(LastNames);
        return new JsonObject
        {
            ["id"] = id,
            ["firstName"] = first,
            ["lastName"] = last,
            ["email"] = $"{Ascii(first)}.{Ascii(last)}.{id[^5..]}@example.org",
            ["secondaryEmail"] = null,
            ["phone"] = "+1 555 0199",
            ["mobile"] = null,
            ["type"] = null,
            ["accountId"] = Id(PickRecord("accounts")),
            ["ownerId"] = Id(PickRecord("agents")),
            ["isAnonymous"] = false,
            ["isEndUser"] = false,
            ["isSpam"] = false,
            ["accountCount"] = "1",
            ["photoURL"] = null,
            ["webUrl"] = $"https://desk.zoho.com/support/{_options.PortalName}/ShowHomePage.do#Contacts/dv/{id}",
            ["createdTime"] = Portal.Iso(created),
            ["modifiedTime"] = Portal.Iso(Modified(created)),
            ["customerHappiness"] = new JsonObject { ["badPercentage"] = "0", ["okPercentage"] = "0", ["goodPercentage"] = "100" },
            ["zohoCRMContact"] = null,
            ["cf"] = CustomValues("contacts"),
        };
    }

    private JsonObject Product(DateTimeOffset created)
    {
        var id = NextId();
        return new JsonObject
        {
            ["id"] = id,
            ["productName"] = Pick(["Widget", "Gadget", "Sprocket", "Gizmo", "Doohickey"]) + " " + Pick(["Pro", "Lite", "Max", "Ünity"]) + " " + id[^3..],
            ["productCode"] = "P-" + id[^6..],
            ["unitPrice"] = (_random.Next(100, 100000) / 100.0).ToString("0.00", CultureInfo.InvariantCulture),
            ["productCategory"] = Pick(ProductLines),
            ["description"] = "A product",
            ["departmentIds"] = new JsonArray(_portal.List("departments").Take(2).Select(d => (JsonNode)Id(d)!).ToArray()),
            ["ownerId"] = Id(PickRecord("agents")),
            ["owner"] = null,
            ["isDeleted"] = false,
            ["createdTime"] = Portal.Iso(created),
            ["modifiedTime"] = Portal.Iso(Modified(created)),
            ["createdBy"] = Id(PickRecord("agents")),
            ["modifiedBy"] = Id(PickRecord("agents")),
            ["layoutId"] = "1000000000301",
            ["cf"] = CustomValues("products"),
        };
    }

    private JsonObject Contract(DateTimeOffset created)
    {
        var id = NextId();
        var start = created.AddDays(_random.Next(0, 30));
        var end = start.AddDays(_random.Next(30, 730));
        var status = end < _now ? "EXPIRED" : start > _now ? "FUTURE" : "ACTIVE";
        return new JsonObject
        {
            ["id"] = id,
            ["contractName"] = "Support contract " + id[^5..],
            ["contractNumber"] = "C-" + id[^6..],
            ["contractStatus"] = status,
            ["startDate"] = start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["endDate"] = end.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["accountId"] = Id(PickRecord("accounts")),
            ["productId"] = Id(PickRecord("products")),
            ["departmentId"] = Id(PickRecord("departments")),
            ["ownerId"] = Id(PickRecord("agents")),
            ["associatedSLAId"] = "1000000000401",
            ["associatedSupportPlanId"] = null,
            ["supportPlan"] = null,
            ["description"] = null,
            ["createdTime"] = Portal.Iso(created),
            ["modifiedTime"] = Portal.Iso(Modified(created)),
            ["cf"] = CustomValues("contracts"),
        };
    }

    private JsonObject Task(DateTimeOffset created)
    {
        var id = NextId();
        var done = _random.Next(3) == 0;
        var modified = Modified(created);
        return new JsonObject
        {
            ["id"] = id,
            ["subject"] = Pick(["Call back customer", "Ship replacement", "Check invoice", "Follow up"]),
            ["description"] = null,
            ["dueDate"] = Portal.Iso(created.AddDays(2)),
            ["priority"] = Pick(Priorities),
            ["status"] = done ? "Completed" : "Not Started",
            ["statusType"] = done ? "Closed" : "Open",
            ["category"] = Pick(["Call", "Email", "Meeting"]),
            ["departmentId"] = Id(PickRecord("departments")),
            ["ticketId"] = Id(PickRecord("tickets")),
            ["ownerId"] = Id(PickRecord("agents")),
            ["creatorId"] = Id(PickRecord("agents")),
            ["modifiedBy"] = PickRecord("agents") is { } editor
                ? new JsonObject { ["id"] = Id(editor), ["firstName"] = editor["firstName"]?.GetValue<string>(), ["lastName"] = editor["lastName"]?.GetValue<string>(), ["emailId"] = editor["emailId"]?.GetValue<string>(), ["photoURL"] = null }
                : null,
            ["completedTime"] = done ? Portal.Iso(modified) : null,
            ["activityTime"] = created.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["isTrashed"] = false,
            ["isSpam"] = false,
            ["isCommented"] = false,
            ["layoutId"] = "1000000000501",
            ["webUrl"] = $"https://desk.zoho.com/support/{_options.PortalName}/ShowHomePage.do#Tasks/dv/{id}",
            ["createdTime"] = Portal.Iso(created),
            ["modifiedTime"] = Portal.Iso(modified),
            ["cf"] = CustomValues("tasks"),
        };
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
