package contact

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// TestValidNumberAgreesWithLibrary checks validNumber against
// phonenumbers.IsValidNumber on every example number of every region and
// type, each with its last digit changed and with a digit added or
// removed, and on random national numbers of 2 to 17 digits for every
// country code the metadata knows.
func TestValidNumberAgreesWithLibrary(t *testing.T) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	seen, valid, checked := map[int]bool{}, 0, 0
	check := func(cc int, nsn string) {
		t.Helper()
		if nsn == "" || len(nsn) > 17 {
			return
		}
		num, err := phonenumbers.Parse("+"+strconv.Itoa(cc)+nsn, "ZZ")
		if err != nil {
			// Not parseable as written: test the split form too.
			n, perr := strconv.ParseUint(nsn, 10, 64)
			if perr != nil {
				return
			}
			num = &phonenumbers.PhoneNumber{CountryCode: proto.Int32(int32(cc)), NationalNumber: proto.Uint64(n)}
		}
		checked++
		want := phonenumbers.IsValidNumber(num)
		if want {
			valid++
		}
		if got := validNumber(num); got != want {
			t.Errorf("+%d %s: validNumber %v, library %v", cc, nsn, got, want)
		}
	}
	for _, md := range coll.GetMetadata() {
		cc := int(md.GetCountryCode())
		seen[cc] = true
		for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetGeneralDesc(), md.GetFixedLine(), md.GetMobile(), md.GetTollFree(),
			md.GetPremiumRate(), md.GetSharedCost(), md.GetPersonalNumber(), md.GetVoip(), md.GetPager(), md.GetUan(), md.GetVoicemail()} {
			ex := d.GetExampleNumber()
			if ex == "" {
				continue
			}
			check(cc, ex)
			last := ex[len(ex)-1] - '0'
			check(cc, ex[:len(ex)-1]+strconv.Itoa(int(last+1)%10))
			check(cc, ex+"0")
			check(cc, ex[:len(ex)-1])
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for cc := range seen {
		for range 300 {
			n := 2 + rng.IntN(16)
			b := make([]byte, n)
			for i := range b {
				b[i] = byte('0' + rng.IntN(10))
			}
			if b[0] == '0' {
				b[0] = byte('1' + rng.IntN(9))
			}
			check(cc, string(b))
		}
	}
	if valid < 1000 || checked-valid < 1000 {
		t.Fatalf("only %d valid and %d invalid numbers checked: the comparison proves little", valid, checked-valid)
	}
	t.Logf("%d numbers of %d country codes, %d valid", checked, len(seen), valid)
}

func BenchmarkValidNumber(b *testing.B) {
	// Valid North American numbers, as an import mostly has.
	var nums []*phonenumbers.PhoneNumber
	for i := 0; len(nums) < 1000; i++ {
		n := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(1), NationalNumber: proto.Uint64(uint64(2125550000 + i*7919))}
		if phonenumbers.IsValidNumber(n) {
			nums = append(nums, n)
		}
	}
	b.Run("parley", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			validNumber(nums[i%len(nums)])
		}
	})
	b.Run("library", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			phonenumbers.IsValidNumber(nums[i%len(nums)])
		}
	})
}
