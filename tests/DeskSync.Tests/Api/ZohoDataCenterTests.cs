using DeskSync.Tests.Support;
using DeskSync.ZohoDesk.Regions;

namespace DeskSync.Tests.Api;

[Trait(Lanes.Key, Lanes.Fast)]
public sealed class ZohoDataCenterTests
{
    [Theory]
    [InlineData("US", "https://accounts.zoho.com/oauth/v2/token", "https://desk.zoho.com/api/v1/")]
    [InlineData("eu", "https://accounts.zoho.eu/oauth/v2/token", "https://desk.zoho.eu/api/v1/")]
    [InlineData("IN", "https://accounts.zoho.in/oauth/v2/token", "https://desk.zoho.in/api/v1/")]
    [InlineData("AU", "https://accounts.zoho.com.au/oauth/v2/token", "https://desk.zoho.com.au/api/v1/")]
    [InlineData("JP", "https://accounts.zoho.jp/oauth/v2/token", "https://desk.zoho.jp/api/v1/")]
    [InlineData("CA", "https://accounts.zohocloud.ca/oauth/v2/token", "https://desk.zohocloud.ca/api/v1/")]
    [InlineData("CN", "https://accounts.zoho.com.cn/oauth/v2/token", "https://desk.zoho.com.cn/api/v1/")]
    [InlineData("SA", "https://accounts.zoho.sa/oauth/v2/token", "https://desk.zoho.sa/api/v1/")]
    [InlineData("UK", "https://accounts.zoho.uk/oauth/v2/token", "https://desk.zoho.uk/api/v1/")]
    [InlineData("SG", "https://accounts.zoho.sg/oauth/v2/token", "https://desk.zoho.sg/api/v1/")]
    [InlineData("AE", "https://accounts.zoho.ae/oauth/v2/token", "https://desk.zoho.ae/api/v1/")]
    public void Every_data_centre_maps_to_its_accounts_and_Desk_hosts(string code, string tokenUrl, string apiUrl)
    {
        var endpoints = ZohoEndpoints.For(ZohoDataCenter.Parse(code));

        Assert.Equal(tokenUrl, endpoints.TokenUrl.ToString());
        Assert.Equal(apiUrl, endpoints.ApiBaseUrl.ToString());
    }

    [Theory]
    [InlineData("accounts.zoho.eu", "EU")]
    [InlineData("https://desk.zoho.com.au/", "AU")]
    [InlineData("desk.zohocloud.ca", "CA")]
    public void A_data_centre_is_found_by_host(string host, string code) =>
        Assert.Equal(code, ZohoDataCenter.Find(host)!.Code);

    [Fact]
    public void Overrides_replace_the_hosts_and_accept_a_trailing_api_path()
    {
        var endpoints = ZohoEndpoints.For(ZohoDataCenter.Parse("EU"), "http://127.0.0.1:9000", "http://127.0.0.1:9001/api/v1/");

        Assert.Equal("http://127.0.0.1:9000/oauth/v2/token", endpoints.TokenUrl.ToString());
        Assert.Equal("http://127.0.0.1:9001/api/v1/", endpoints.ApiBaseUrl.ToString());
    }

    [Fact]
    public void An_unknown_data_centre_lists_the_known_ones()
    {
        var ex = Assert.Throws<ArgumentException>(() => ZohoDataCenter.Parse("Mars"));
        Assert.Contains("EU", ex.Message, StringComparison.Ordinal);
    }
}
