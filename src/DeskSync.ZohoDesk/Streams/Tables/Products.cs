using DeskSync.ZohoDesk.Streams.Reads;

namespace DeskSync.ZohoDesk.Streams;

public static partial class DeskStreams
{
    /// <summary>Products (Product.json, searchProducts). Zoho sends no product events: polling keeps them current.</summary>
    public static readonly DeskStream Products = new("products", "Products", "products", 100, "products", F(
        ("id", T), ("productName", T), ("productCode", T), ("unitPrice", D), ("productCategory", T), ("description", T),
        ("departmentIds", J), ("ownerId", T), ("createdTime", Ts), ("modifiedTime", Ts), ("createdBy", T), ("modifiedBy", T),
        ("layoutId", T)))
    {
        Read = new SearchRead(),
        Scopes = ["Desk.products.READ"],
    };
}
