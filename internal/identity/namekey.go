package identity

import (
	"slices"
	"strings"
	"unicode"
)

// NameKeyVersion is the form names are hashed in: 1, the name as typed
// (NormalizeName) before session 24; 2, its NameKey. The database records
// the form its names may still be in (migration 0086_a: 1 when any person
// predates NameKey; `fairslot rekey` records this one), and serve warns
// while it is older (docs/operations.md, "Names hashed before their key").
const NameKeyVersion = 2

// NameKey is the form of a canonical name (NormalizeName) that names are
// compared and hashed by (review24 M1): two names with one key are one
// name. It folds only what a window serving Hong Kong, Macau, Taiwan and
// foreign patients meets every day as the same name written differently:
//
//   - a Latin name is compared as its words, upper case, in any order:
//     "John Smith", "JOHN SMITH" and "SMITH JOHN" (a passport prints upper
//     case, surname first; its machine-readable zone has no lower case) are
//     one key, "JOHN SMITH". Hyphens, apostrophes and periods stay inside
//     their word ("MARY-ANN", "O'NEIL"); accents stay (É is not E).
//   - a Chinese name has each character of a small table of traditional
//     characters common in names (simplifiedInNames) replaced by its
//     simplified form: 陳大文 and 陈大文 are one key, 陈大文.
//
// What it does not fold, on purpose: a Chinese name and its romanisation
// (陈大文 and "CHAN TAI MAN" are two names: the desk links such documents,
// LinkIdentities, only when their verified names are one); variant
// characters outside the table (异体字 such as 峯/峰, and the pairs whose
// simplified form stands for two characters in names: 後/后, 於/于, 範/范,
// 雲/云, 萬/万, 鍾/鐘 — simplifiedInNames says which); the order of a Chinese name's
// characters; and any near miss (NearName). A resident ID card's name is
// compared as before but for the table.
func NameKey(name string) string {
	if name == "" {
		return name
	}
	first := []rune(name)[0]
	if unicode.Is(unicode.Han, first) || first == middleDot {
		return strings.Map(func(r rune) rune {
			if s, ok := simplifiedInNames[r]; ok {
				return s
			}
			return r
		}, name)
	}
	words := strings.Fields(strings.ToUpper(name))
	slices.Sort(words)
	return strings.Join(words, " ")
}

// simplifiedInNames maps traditional characters common in family and given
// names to their simplified forms, one to one only: a traditional
// character whose simplified form also stands for another traditional one
// in names (後/后, 於/于, 乾/干, 範/范, 餘/余, 髮/發) is left out, so that two
// names written differently in Hong Kong never fold into one; so is one
// whose simplified form is itself a traditional character used in names
// (雲/云, 傑/杰, 豐/丰, 萬/万, 鍾/鐘→钟, 誌/志). About
// the hundred surnames and given-name characters that the HK, Macau and
// Taiwan patients' documents most often carry; a pair missing here is a
// name the desk verifies as printed (and corrects with a reason).
var simplifiedInNames = map[rune]rune{
	// family names
	'陳': '陈', '張': '张', '劉': '刘', '黃': '黄', '趙': '赵', '吳': '吴', '鄭': '郑', '謝': '谢',
	'羅': '罗', '馬': '马', '葉': '叶', '楊': '杨', '許': '许', '鄧': '邓', '韓': '韩', '馮': '冯',
	'蘇': '苏', '盧': '卢', '蔣': '蒋', '賈': '贾', '閻': '阎', '譚': '谭', '鄒': '邹',
	'陸': '陆', '顧': '顾', '龍': '龙', '錢': '钱', '湯': '汤', '喬': '乔', '賀': '贺',
	'賴': '赖', '龔': '龚', '關': '关', '區': '区', '貝': '贝', '嚴': '严', '孫': '孙', '簡': '简',
	'溫': '温', '鄺': '邝', '歐': '欧', '陽': '阳', '麥': '麦',
	// given-name characters
	'偉': '伟', '華': '华', '國': '国', '強': '强', '軍': '军', '東': '东', '麗': '丽',
	'靜': '静', '紅': '红', '輝': '辉', '濤': '涛', '鵬': '鹏', '飛': '飞', '鳳': '凤',
	'嬌': '娇', '蘭': '兰', '穎': '颖', '瑩': '莹', '誠': '诚', '興': '兴', '榮': '荣', '順': '顺',
	'貴': '贵', '寶': '宝', '愛': '爱', '學': '学', '慶': '庆', '長': '长', '齊': '齐', '儀': '仪',
	'來': '来', '綺': '绮', '鴻': '鸿', '銘': '铭', '詩': '诗', '鈺': '钰', '嫻': '娴',
	'聰': '聪', '賢': '贤', '漢': '汉', '曉': '晓', '運': '运', '達': '达', '進': '进', '義': '义',
	'亞': '亚', '書': '书', '鳴': '鸣', '剛': '刚', '鋒': '锋', '錦': '锦', '紀': '纪', '維': '维',
	'蓮': '莲', '鶴': '鹤', '瓊': '琼', '憶': '忆', '燁': '烨',
	'寧': '宁', '倫': '伦', '彥': '彦', '嘯': '啸', '鎮': '镇',
}
