namespace DeskSync.Emulator.Desk;

/// <summary>
/// A module the emulator serves, by Zoho's operation ids (OpenAPI files) and webhook event prefix
/// (Webhook.json). The emulator's own list, kept apart from the client's streams so that the two
/// can disagree.
/// </summary>
public sealed record EmulatedModule(string Name, string ListOperation, string RecordOperation, string? SearchOperation, int ListCap, string? EventPrefix)
{
    /// <summary>Whose item shape a webhook payload takes [G]: Zoho documents no payload schema; the search
    /// (or list) item is the complete record the API reads, nested objects included.</summary>
    public string PayloadOperation => SearchOperation ?? ListOperation;
}

public static class EmulatedModules
{
    /// <summary>Page-size cap of search answers where the OpenAPI files give none (facts page §2).</summary>
    public const int SearchCap = 100;

    public static readonly IReadOnlyList<EmulatedModule> All =
    [
        new("tickets", "getTickets", "getTicket", "searchTickets", 100, "Ticket"),
        new("departments", "getDepartments", "getDepartment", null, 200, "Department"),
        new("products", "getProducts", "getProduct", "searchProducts", 100, null),
        new("contracts", "getContracts", "getContract", null, 100, null),
        new("contacts", "getContacts", "getContact", "searchContacts", 99, "Contact"),
        new("accounts", "getAccounts", "getAccount", "searchAccounts", 99, "Account"),
        new("agents", "getAgents", "getAgent", null, 200, "Agent"),
        new("teams", "getTeams", "getTeam", null, 0, null),
        new("tasks", "getTasks", "getTask", "searchTasks", 99, "Task"),
        new("calls", "getCalls", "getCall", "searchCalls", 99, "Call"),
        new("events", "getEvents", "getEvent", "searchEvents", 99, "Event"),
    ];

    public static EmulatedModule? Named(string name) => All.FirstOrDefault(m => m.Name == name);
}
