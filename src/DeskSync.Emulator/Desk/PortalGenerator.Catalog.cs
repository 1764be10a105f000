using System.Globalization;
using System.Text.Json.Nodes;

namespace DeskSync.Emulator.Desk;

/// <summary>Products and contracts.</summary>
internal sealed partial class PortalGenerator
{
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
}
