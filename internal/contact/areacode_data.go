package contact

// The NANP area-code table behind AreaCodeInfo.
//
// Source: written by hand from general knowledge of the North American
// Numbering Plan (NANPA's published assignments of geographic NPAs to US
// states, DC, US territories and Canadian provinces), not generated from a
// feed. It may lag: overlays are added every year or two, and an NPA that
// is missing here simply falls back to the brand's time zone. When adding one,
// give it the region and zone of the code it overlays.
//
// Where an area spans two zones the table holds the zone where most of its
// people live: 850 Florida is Central (Pensacola, Panama City), 308 Nebraska
// is Central (Grand Island, Kearney, North Platte; the Panhandle is Mountain),
// 208 Idaho is Boise (the northern panhandle is Pacific), 541 Oregon is
// Pacific (Malheur County is Mountain), 270 Kentucky and 219 Indiana are
// Central, 915 Texas is Mountain (El Paso), 906 Michigan is Eastern. Codes
// that serve two provinces or territories carry the larger one: 902/782 is
// NS (also PE), 867 is NT (also YT and NU).
//
// The map is read-only after initialisation; nothing writes to it.

// Zone names used by the table, so that a typo cannot hide among 400 rows.
const (
	tzEastern      = "America/New_York"
	tzDetroit      = "America/Detroit"
	tzIndianapolis = "America/Indiana/Indianapolis"
	tzCentral      = "America/Chicago"
	tzMountain     = "America/Denver"
	tzBoise        = "America/Boise"
	tzPhoenix      = "America/Phoenix"
	tzPacific      = "America/Los_Angeles"
	tzAlaska       = "America/Anchorage"
	tzHawaii       = "Pacific/Honolulu"
	tzPuertoRico   = "America/Puerto_Rico"
	tzVirginIs     = "America/St_Thomas"
	tzGuam         = "Pacific/Guam"
	tzSaipan       = "Pacific/Saipan"
	tzPagoPago     = "Pacific/Pago_Pago"
	tzToronto      = "America/Toronto"
	tzWinnipeg     = "America/Winnipeg"
	tzRegina       = "America/Regina"
	tzEdmonton     = "America/Edmonton"
	tzVancouver    = "America/Vancouver"
	tzHalifax      = "America/Halifax"
	tzMoncton      = "America/Moncton"
	tzStJohns      = "America/St_Johns"
)

var areaCodes = map[string]areaCode{
	// Alabama
	"205": {"AL", tzCentral}, "251": {"AL", tzCentral}, "256": {"AL", tzCentral},
	"334": {"AL", tzCentral}, "659": {"AL", tzCentral}, "938": {"AL", tzCentral},

	// Alaska
	"907": {"AK", tzAlaska},

	// Arizona (no DST outside the Navajo Nation)
	"480": {"AZ", tzPhoenix}, "520": {"AZ", tzPhoenix}, "602": {"AZ", tzPhoenix},
	"623": {"AZ", tzPhoenix}, "928": {"AZ", tzPhoenix},

	// Arkansas
	"327": {"AR", tzCentral}, "479": {"AR", tzCentral}, "501": {"AR", tzCentral},
	"870": {"AR", tzCentral},

	// California
	"209": {"CA", tzPacific}, "213": {"CA", tzPacific}, "279": {"CA", tzPacific},
	"310": {"CA", tzPacific}, "323": {"CA", tzPacific}, "341": {"CA", tzPacific},
	"350": {"CA", tzPacific}, "357": {"CA", tzPacific}, "369": {"CA", tzPacific},
	"408": {"CA", tzPacific}, "415": {"CA", tzPacific}, "424": {"CA", tzPacific},
	"442": {"CA", tzPacific}, "510": {"CA", tzPacific}, "530": {"CA", tzPacific},
	"559": {"CA", tzPacific}, "562": {"CA", tzPacific}, "619": {"CA", tzPacific},
	"626": {"CA", tzPacific}, "628": {"CA", tzPacific}, "650": {"CA", tzPacific},
	"657": {"CA", tzPacific}, "661": {"CA", tzPacific}, "669": {"CA", tzPacific},
	"707": {"CA", tzPacific}, "714": {"CA", tzPacific}, "738": {"CA", tzPacific},
	"747": {"CA", tzPacific}, "760": {"CA", tzPacific}, "805": {"CA", tzPacific},
	"818": {"CA", tzPacific}, "820": {"CA", tzPacific}, "831": {"CA", tzPacific},
	"840": {"CA", tzPacific}, "858": {"CA", tzPacific}, "909": {"CA", tzPacific},
	"916": {"CA", tzPacific}, "925": {"CA", tzPacific}, "949": {"CA", tzPacific},
	"951": {"CA", tzPacific},

	// Colorado
	"303": {"CO", tzMountain}, "719": {"CO", tzMountain}, "720": {"CO", tzMountain},
	"748": {"CO", tzMountain}, "970": {"CO", tzMountain}, "983": {"CO", tzMountain},

	// Connecticut
	"203": {"CT", tzEastern}, "475": {"CT", tzEastern}, "860": {"CT", tzEastern},
	"959": {"CT", tzEastern},

	// Delaware
	"302": {"DE", tzEastern},

	// District of Columbia
	"202": {"DC", tzEastern}, "771": {"DC", tzEastern},

	// Florida (the Panhandle, 850/448, is Central)
	"239": {"FL", tzEastern}, "305": {"FL", tzEastern}, "321": {"FL", tzEastern},
	"324": {"FL", tzEastern}, "352": {"FL", tzEastern}, "386": {"FL", tzEastern},
	"407": {"FL", tzEastern}, "448": {"FL", tzCentral}, "561": {"FL", tzEastern},
	"645": {"FL", tzEastern}, "656": {"FL", tzEastern}, "689": {"FL", tzEastern},
	"727": {"FL", tzEastern}, "728": {"FL", tzEastern}, "754": {"FL", tzEastern},
	"772": {"FL", tzEastern}, "786": {"FL", tzEastern}, "813": {"FL", tzEastern},
	"850": {"FL", tzCentral}, "863": {"FL", tzEastern}, "904": {"FL", tzEastern},
	"941": {"FL", tzEastern}, "954": {"FL", tzEastern},

	// Georgia
	"229": {"GA", tzEastern}, "404": {"GA", tzEastern}, "470": {"GA", tzEastern},
	"478": {"GA", tzEastern}, "678": {"GA", tzEastern}, "706": {"GA", tzEastern},
	"762": {"GA", tzEastern}, "770": {"GA", tzEastern}, "912": {"GA", tzEastern},
	"943": {"GA", tzEastern},

	// Hawaii
	"808": {"HI", tzHawaii},

	// Idaho (the northern panhandle is Pacific)
	"208": {"ID", tzBoise}, "986": {"ID", tzBoise},

	// Illinois
	"217": {"IL", tzCentral}, "224": {"IL", tzCentral}, "309": {"IL", tzCentral},
	"312": {"IL", tzCentral}, "331": {"IL", tzCentral}, "447": {"IL", tzCentral},
	"464": {"IL", tzCentral}, "618": {"IL", tzCentral}, "630": {"IL", tzCentral},
	"708": {"IL", tzCentral}, "730": {"IL", tzCentral}, "773": {"IL", tzCentral},
	"779": {"IL", tzCentral}, "815": {"IL", tzCentral}, "847": {"IL", tzCentral},
	"861": {"IL", tzCentral}, "872": {"IL", tzCentral},

	// Indiana (the northwest, 219, is Central)
	"219": {"IN", tzCentral}, "260": {"IN", tzIndianapolis}, "317": {"IN", tzIndianapolis},
	"463": {"IN", tzIndianapolis}, "574": {"IN", tzIndianapolis}, "765": {"IN", tzIndianapolis},
	"812": {"IN", tzIndianapolis}, "930": {"IN", tzIndianapolis},

	// Iowa
	"319": {"IA", tzCentral}, "515": {"IA", tzCentral}, "563": {"IA", tzCentral},
	"641": {"IA", tzCentral}, "712": {"IA", tzCentral},

	// Kansas (a few western counties are Mountain)
	"316": {"KS", tzCentral}, "620": {"KS", tzCentral}, "785": {"KS", tzCentral},
	"913": {"KS", tzCentral},

	// Kentucky (the west, 270/364, is Central)
	"270": {"KY", tzCentral}, "364": {"KY", tzCentral}, "502": {"KY", tzEastern},
	"606": {"KY", tzEastern}, "859": {"KY", tzEastern},

	// Louisiana
	"225": {"LA", tzCentral}, "318": {"LA", tzCentral}, "337": {"LA", tzCentral},
	"504": {"LA", tzCentral}, "985": {"LA", tzCentral},

	// Maine
	"207": {"ME", tzEastern},

	// Maryland
	"227": {"MD", tzEastern}, "240": {"MD", tzEastern}, "301": {"MD", tzEastern},
	"410": {"MD", tzEastern}, "443": {"MD", tzEastern}, "667": {"MD", tzEastern},

	// Massachusetts
	"339": {"MA", tzEastern}, "351": {"MA", tzEastern}, "413": {"MA", tzEastern},
	"508": {"MA", tzEastern}, "617": {"MA", tzEastern}, "774": {"MA", tzEastern},
	"781": {"MA", tzEastern}, "857": {"MA", tzEastern}, "978": {"MA", tzEastern},

	// Michigan (four Upper Peninsula counties in 906 are Central)
	"231": {"MI", tzDetroit}, "248": {"MI", tzDetroit}, "269": {"MI", tzDetroit},
	"313": {"MI", tzDetroit}, "517": {"MI", tzDetroit}, "586": {"MI", tzDetroit},
	"616": {"MI", tzDetroit}, "679": {"MI", tzDetroit}, "734": {"MI", tzDetroit},
	"810": {"MI", tzDetroit}, "906": {"MI", tzDetroit}, "947": {"MI", tzDetroit},
	"989": {"MI", tzDetroit},

	// Minnesota
	"218": {"MN", tzCentral}, "320": {"MN", tzCentral}, "507": {"MN", tzCentral},
	"612": {"MN", tzCentral}, "651": {"MN", tzCentral}, "763": {"MN", tzCentral},
	"924": {"MN", tzCentral}, "952": {"MN", tzCentral},

	// Mississippi
	"228": {"MS", tzCentral}, "601": {"MS", tzCentral}, "662": {"MS", tzCentral},
	"769": {"MS", tzCentral},

	// Missouri
	"235": {"MO", tzCentral}, "314": {"MO", tzCentral}, "417": {"MO", tzCentral},
	"557": {"MO", tzCentral}, "573": {"MO", tzCentral}, "636": {"MO", tzCentral},
	"660": {"MO", tzCentral}, "816": {"MO", tzCentral}, "975": {"MO", tzCentral},

	// Montana
	"406": {"MT", tzMountain},

	// Nebraska (308: the Panhandle is Mountain, but most of its people are Central)
	"308": {"NE", tzCentral}, "402": {"NE", tzCentral}, "531": {"NE", tzCentral},

	// Nevada
	"702": {"NV", tzPacific}, "725": {"NV", tzPacific}, "775": {"NV", tzPacific},

	// New Hampshire
	"603": {"NH", tzEastern},

	// New Jersey
	"201": {"NJ", tzEastern}, "551": {"NJ", tzEastern}, "609": {"NJ", tzEastern},
	"640": {"NJ", tzEastern}, "732": {"NJ", tzEastern}, "848": {"NJ", tzEastern},
	"856": {"NJ", tzEastern}, "862": {"NJ", tzEastern}, "908": {"NJ", tzEastern},
	"973": {"NJ", tzEastern},

	// New Mexico
	"505": {"NM", tzMountain}, "575": {"NM", tzMountain},

	// New York (NYC: 212/332/646/917 Manhattan, 718/347/929 outer boroughs)
	"212": {"NY", tzEastern}, "315": {"NY", tzEastern}, "329": {"NY", tzEastern},
	"332": {"NY", tzEastern}, "347": {"NY", tzEastern}, "363": {"NY", tzEastern},
	"516": {"NY", tzEastern}, "518": {"NY", tzEastern}, "585": {"NY", tzEastern},
	"607": {"NY", tzEastern}, "624": {"NY", tzEastern}, "631": {"NY", tzEastern},
	"646": {"NY", tzEastern}, "680": {"NY", tzEastern}, "716": {"NY", tzEastern},
	"718": {"NY", tzEastern}, "838": {"NY", tzEastern}, "845": {"NY", tzEastern},
	"914": {"NY", tzEastern}, "917": {"NY", tzEastern}, "929": {"NY", tzEastern},
	"934": {"NY", tzEastern},

	// North Carolina
	"252": {"NC", tzEastern}, "336": {"NC", tzEastern}, "472": {"NC", tzEastern},
	"704": {"NC", tzEastern}, "743": {"NC", tzEastern}, "828": {"NC", tzEastern},
	"910": {"NC", tzEastern}, "919": {"NC", tzEastern}, "980": {"NC", tzEastern},
	"984": {"NC", tzEastern},

	// North Dakota (the southwest is Mountain)
	"701": {"ND", tzCentral},

	// Ohio
	"216": {"OH", tzEastern}, "220": {"OH", tzEastern}, "234": {"OH", tzEastern},
	"283": {"OH", tzEastern}, "326": {"OH", tzEastern}, "330": {"OH", tzEastern},
	"380": {"OH", tzEastern}, "419": {"OH", tzEastern}, "436": {"OH", tzEastern},
	"440": {"OH", tzEastern}, "513": {"OH", tzEastern}, "567": {"OH", tzEastern},
	"614": {"OH", tzEastern}, "740": {"OH", tzEastern}, "937": {"OH", tzEastern},

	// Oklahoma
	"405": {"OK", tzCentral}, "539": {"OK", tzCentral}, "572": {"OK", tzCentral},
	"580": {"OK", tzCentral}, "918": {"OK", tzCentral},

	// Oregon (most of Malheur County, in 541/458, is Mountain)
	"458": {"OR", tzPacific}, "503": {"OR", tzPacific}, "541": {"OR", tzPacific},
	"971": {"OR", tzPacific},

	// Pennsylvania
	"215": {"PA", tzEastern}, "223": {"PA", tzEastern}, "267": {"PA", tzEastern},
	"272": {"PA", tzEastern}, "412": {"PA", tzEastern}, "445": {"PA", tzEastern},
	"484": {"PA", tzEastern}, "570": {"PA", tzEastern}, "582": {"PA", tzEastern},
	"610": {"PA", tzEastern}, "717": {"PA", tzEastern}, "724": {"PA", tzEastern},
	"814": {"PA", tzEastern}, "835": {"PA", tzEastern}, "878": {"PA", tzEastern},

	// Rhode Island
	"401": {"RI", tzEastern},

	// South Carolina
	"803": {"SC", tzEastern}, "821": {"SC", tzEastern}, "839": {"SC", tzEastern},
	"843": {"SC", tzEastern}, "854": {"SC", tzEastern}, "864": {"SC", tzEastern},

	// South Dakota (west of the Missouri is Mountain)
	"605": {"SD", tzCentral},

	// Tennessee (East Tennessee, 423/729/865, is Eastern)
	"423": {"TN", tzEastern}, "615": {"TN", tzCentral}, "629": {"TN", tzCentral},
	"729": {"TN", tzEastern}, "731": {"TN", tzCentral}, "865": {"TN", tzEastern},
	"901": {"TN", tzCentral}, "931": {"TN", tzCentral},

	// Texas (El Paso, 915, is Mountain)
	"210": {"TX", tzCentral}, "214": {"TX", tzCentral}, "254": {"TX", tzCentral},
	"281": {"TX", tzCentral}, "325": {"TX", tzCentral}, "346": {"TX", tzCentral},
	"361": {"TX", tzCentral}, "409": {"TX", tzCentral}, "430": {"TX", tzCentral},
	"432": {"TX", tzCentral}, "469": {"TX", tzCentral}, "512": {"TX", tzCentral},
	"682": {"TX", tzCentral}, "713": {"TX", tzCentral}, "726": {"TX", tzCentral},
	"737": {"TX", tzCentral}, "806": {"TX", tzCentral}, "817": {"TX", tzCentral},
	"830": {"TX", tzCentral}, "832": {"TX", tzCentral}, "903": {"TX", tzCentral},
	"915": {"TX", tzMountain}, "936": {"TX", tzCentral}, "940": {"TX", tzCentral},
	"945": {"TX", tzCentral}, "956": {"TX", tzCentral}, "972": {"TX", tzCentral},
	"979": {"TX", tzCentral},

	// Utah
	"385": {"UT", tzMountain}, "435": {"UT", tzMountain}, "801": {"UT", tzMountain},

	// Vermont
	"802": {"VT", tzEastern},

	// Virginia
	"276": {"VA", tzEastern}, "434": {"VA", tzEastern}, "540": {"VA", tzEastern},
	"571": {"VA", tzEastern}, "686": {"VA", tzEastern}, "703": {"VA", tzEastern},
	"757": {"VA", tzEastern}, "804": {"VA", tzEastern}, "826": {"VA", tzEastern},
	"948": {"VA", tzEastern},

	// Washington
	"206": {"WA", tzPacific}, "253": {"WA", tzPacific}, "360": {"WA", tzPacific},
	"425": {"WA", tzPacific}, "509": {"WA", tzPacific}, "564": {"WA", tzPacific},

	// West Virginia
	"304": {"WV", tzEastern}, "681": {"WV", tzEastern},

	// Wisconsin
	"262": {"WI", tzCentral}, "274": {"WI", tzCentral}, "353": {"WI", tzCentral},
	"414": {"WI", tzCentral}, "534": {"WI", tzCentral}, "608": {"WI", tzCentral},
	"715": {"WI", tzCentral}, "920": {"WI", tzCentral},

	// Wyoming
	"307": {"WY", tzMountain},

	// US territories
	"787": {"PR", tzPuertoRico}, "939": {"PR", tzPuertoRico},
	"340": {"VI", tzVirginIs},
	"671": {"GU", tzGuam},
	"670": {"MP", tzSaipan},
	"684": {"AS", tzPagoPago},

	// Alberta
	"368": {"AB", tzEdmonton}, "403": {"AB", tzEdmonton}, "587": {"AB", tzEdmonton},
	"780": {"AB", tzEdmonton}, "825": {"AB", tzEdmonton},

	// British Columbia (the East Kootenays and the Peace are Mountain)
	"236": {"BC", tzVancouver}, "250": {"BC", tzVancouver}, "257": {"BC", tzVancouver},
	"604": {"BC", tzVancouver}, "672": {"BC", tzVancouver}, "778": {"BC", tzVancouver},

	// Manitoba
	"204": {"MB", tzWinnipeg}, "431": {"MB", tzWinnipeg}, "584": {"MB", tzWinnipeg},

	// New Brunswick
	"428": {"NB", tzMoncton}, "506": {"NB", tzMoncton},

	// Newfoundland and Labrador (most of Labrador is Atlantic)
	"709": {"NL", tzStJohns}, "879": {"NL", tzStJohns},

	// Nova Scotia and Prince Edward Island
	"782": {"NS", tzHalifax}, "902": {"NS", tzHalifax},

	// Ontario (northwestern Ontario, in 807, is partly Central)
	"226": {"ON", tzToronto}, "249": {"ON", tzToronto}, "289": {"ON", tzToronto},
	"343": {"ON", tzToronto}, "365": {"ON", tzToronto}, "382": {"ON", tzToronto},
	"416": {"ON", tzToronto}, "437": {"ON", tzToronto}, "519": {"ON", tzToronto},
	"548": {"ON", tzToronto}, "613": {"ON", tzToronto}, "647": {"ON", tzToronto},
	"683": {"ON", tzToronto}, "705": {"ON", tzToronto}, "742": {"ON", tzToronto},
	"753": {"ON", tzToronto}, "807": {"ON", tzToronto}, "905": {"ON", tzToronto},
	"942": {"ON", tzToronto},

	// Quebec (America/Montreal is an alias of America/Toronto)
	"263": {"QC", tzToronto}, "354": {"QC", tzToronto}, "367": {"QC", tzToronto},
	"418": {"QC", tzToronto}, "438": {"QC", tzToronto}, "450": {"QC", tzToronto},
	"468": {"QC", tzToronto}, "514": {"QC", tzToronto}, "579": {"QC", tzToronto},
	"581": {"QC", tzToronto}, "819": {"QC", tzToronto}, "873": {"QC", tzToronto},

	// Saskatchewan (no DST)
	"306": {"SK", tzRegina}, "474": {"SK", tzRegina}, "639": {"SK", tzRegina},

	// Yukon, Northwest Territories, Nunavut: one code for three territories
	// and four zones; Yellowknife's (Mountain) stands for all.
	"867": {"NT", tzEdmonton},
}
