/**
 * Names for synthetic residents: given names by sex and birth cohort, surnames with a realistic
 * frequency, name pools that suit the main ethnic groups of England, street names, and the
 * nicknames and spelling variants that feeds use for their flawed copies (`NICKNAMES`,
 * `SPELLING_VARIANTS`).
 *
 * Sources (names only, no counts copied):
 * - Given names: ONS, Baby names in England and Wales (1996–2023), and the ONS historical top-100
 *   lists by decade, 1904–1994, https://www.ons.gov.uk/peoplepopulationandcommunity/birthsdeathsandmarriages/livebirths/bulletins/babynamesenglandandwales/previousReleases
 *   (the historical lists: https://www.ons.gov.uk/peoplepopulationandcommunity/birthsdeathsandmarriages/livebirths/adhocs/007043top100babynamesbydecade1904to1994).
 * - Surnames: the most common surnames of England and Wales (ONS/Office for National Statistics
 *   surname frequencies from the NHS Central Register, 2002, and the GB surname atlas,
 *   https://www.ucl.ac.uk/spatial-analysis/research/spatial-analysis-of-names): Smith, Jones,
 *   Williams, Taylor… Frequencies follow a Zipf-like law (share ∝ rank^-0.7 over the listed
 *   names, Smith about 1.6%), and three quarters of residents carry a name from a long tail of
 *   English locative surnames (Ashworth, Bradley, Whitfield) built from real elements.
 * - Other pools: common forenames and surnames in the communities named, as found in the ONS baby
 *   names lists (Muhammad, Priya, Piotr…) and published surname studies; illustrative, not counts.
 */
import type { Sex } from './model.js';
import type { Random } from './random.js';

/** A list to draw from with weights, by binary search over running totals (no allocation per draw). */
export class WeightedList<T> {
  private readonly cumulative: Float64Array;
  readonly total: number;

  constructor(
    readonly items: readonly T[],
    weights: readonly number[],
  ) {
    if (items.length === 0 || items.length !== weights.length) throw new Error('WeightedList: need one weight per item, and at least one item');
    this.cumulative = new Float64Array(items.length);
    let running = 0;
    for (let i = 0; i < items.length; i++) {
      running += Math.max(0, weights[i] as number);
      this.cumulative[i] = running;
    }
    if (!(running > 0)) throw new Error('WeightedList: the weights must include a positive one');
    this.total = running;
  }

  pick(random: Random): T {
    const target = random.next() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo] as T;
  }
}

/** Zipf-like weights for a list in order of frequency. */
function zipf<T>(items: readonly T[], exponent: number): WeightedList<T> {
  return new WeightedList(
    items,
    items.map((_, i) => (i + 1) ** -exponent),
  );
}

const words = (text: string): string[] => text.trim().split(/\s+/);

// ---------------------------------------------------------------------------------------------
// Given names of England and Wales by birth cohort (most popular first).

interface Cohort {
  /** First birth year of the cohort. */
  from: number;
  male: WeightedList<string>;
  female: WeightedList<string>;
}

const BRITISH_COHORTS: Cohort[] = [
  {
    from: 0,
    male: zipf(words('John William George James Thomas Arthur Frederick Albert Charles Robert Ronald Kenneth Harold Leslie Dennis Stanley Ernest Walter Frank Alfred Edward Henry Sidney Eric Donald Reginald Harry Jack Cyril Norman'), 0.8),
    female: zipf(words('Margaret Mary Joan Dorothy Joyce Doris Jean Irene Elizabeth Kathleen Betty Eileen Florence Edna Vera Ivy Lilian Gladys Ethel Winifred Marjorie Hilda Violet Evelyn Phyllis Audrey Sheila Edith Peggy Nora'), 0.8),
  },
  {
    from: 1940,
    male: zipf(words('John David Michael Peter Robert Anthony Brian Alan William James Richard Kenneth Roger Keith Colin Christopher Terence Barry Graham Malcolm Geoffrey Raymond Derek Trevor Stephen Philip Martin Ian Paul Clive'), 0.8),
    female: zipf(words('Susan Margaret Patricia Christine Linda Carol Elizabeth Janet Ann Mary Jennifer Valerie Sandra Pauline Maureen Barbara Gillian Jacqueline Judith Diane Kathleen Marion Brenda Sheila Jean Lesley Anne Wendy Hazel Carole'), 0.8),
  },
  {
    from: 1960,
    male: zipf(words('David Paul Mark Andrew Michael Stephen Richard Ian Gary Darren Neil Simon Jason Lee Christopher Robert Martin Craig Wayne Matthew Peter Anthony Kevin Steven Philip Jonathan Carl Dean Timothy Nigel'), 0.8),
    female: zipf(words('Sarah Julie Karen Tracey Susan Nicola Amanda Deborah Joanne Helen Claire Lisa Michelle Alison Elizabeth Jane Catherine Samantha Dawn Kelly Emma Louise Rachel Angela Caroline Donna Joanna Fiona Sharon Kerry'), 0.8),
  },
  {
    from: 1980,
    male: zipf(words('Daniel Christopher James Thomas Matthew David Adam Michael Luke Ryan Jack Joshua Andrew Robert Samuel Liam Benjamin Jonathan Craig Kieran Mark Richard Jamie Lewis Ashley Nathan Callum Scott Alexander Oliver'), 0.8),
    female: zipf(words('Sarah Laura Emma Rebecca Gemma Hannah Amy Charlotte Jessica Lauren Rachel Stacey Katie Sophie Kirsty Natalie Danielle Victoria Zoe Chloe Jennifer Nicola Samantha Hayley Kayleigh Jade Lucy Megan Holly Bethany'), 0.8),
  },
  {
    from: 2000,
    male: zipf(words('Oliver Jack Harry Jacob Charlie Thomas George James William Joshua Alfie Noah Leo Oscar Ethan Samuel Joseph Daniel Archie Henry Freddie Theo Arthur Muhammad Max Logan Lucas Isaac Riley Alexander'), 0.8),
    female: zipf(words('Olivia Emily Amelia Isla Ava Jessica Sophie Grace Lily Chloe Ella Mia Isabella Evie Poppy Ruby Charlotte Sophia Freya Lucy Ellie Millie Daisy Megan Holly Scarlett Florence Matilda Phoebe Harriet'), 0.8),
  },
  {
    from: 2020,
    male: zipf(words('Muhammad Noah Oliver George Arthur Leo Harry Oscar Archie Henry Theodore Freddie Jack Charlie Theo Alfie Jacob Thomas Finley Arlo Lucas Luca Tommy Teddy Albie Isaac William Hugo Rory Elijah'), 0.8),
    female: zipf(words('Olivia Amelia Isla Lily Ava Freya Ivy Florence Willow Isabella Mia Elsie Sophia Grace Evie Rosie Sienna Poppy Ella Evelyn Daisy Phoebe Harper Hallie Maya Luna Matilda Ada Violet Margot'), 0.8),
  },
];

function cohortOf(cohorts: readonly Cohort[], birthYear: number): Cohort {
  let chosen = cohorts[0] as Cohort;
  for (const c of cohorts) if (birthYear >= c.from) chosen = c;
  return chosen;
}

// ---------------------------------------------------------------------------------------------
// Name pools.

export type NamePool = 'british' | 'irish' | 'eastern_european' | 'south_asian_muslim' | 'indian' | 'other_asian' | 'chinese' | 'black_african' | 'black_caribbean' | 'arab';

interface Pool {
  male: WeightedList<string> | null; // null: British names by cohort
  female: WeightedList<string> | null;
  /** Share of residents born in England since 1980 who carry a British given name instead. */
  britishGivenShare: number;
  surnames: WeightedList<string>;
}

// Most common surnames of England and Wales, in order (names of other communities are in their pools).
const BRITISH_SURNAMES = words(`Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson
Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Jackson Wood Turner Martin Cooper Hill
Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett
Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Marshall
Anderson Simpson Ellis Adams Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Hunt Campbell Matthews Owen Palmer
Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson
Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks
West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells
Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn
Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird
Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross Cross Long
Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman
Watkins Moss McCarthy Chambers Pritchard Prosser Bevan Gwilliam Preece Meredith Vaughan Jenkins Lewis Probert`);

// The long tail: English locative surnames built from real place-name elements.
const SURNAME_FIRST = words('Ash Brad Whit Hart Brom Stan Ather Black Bright Brook Buck Cald Chester Crom Dar Dun Farn Gold Green Hamp Hather Hol Hors Kings Lang Mid Mor Nor Ox Pen Rad Red Rush Shel Stam Staf Sud Thorn Wal Wes Win Wood Stock Ald Barn Birch Burn Chad Cot Dal');
const SURNAME_LAST = words('ley ton ford field worth well wood by combe ham hurst more shaw thorpe wick stead bury dale well ington cliffe');
const TAIL_SURNAMES: string[] = [];
for (const first of SURNAME_FIRST) for (const last of SURNAME_LAST) TAIL_SURNAMES.push(`${first}${last}`.replace(/(.)\1\1/g, '$1$1'));
const uniqueTail = [...new Set(TAIL_SURNAMES)].filter((s) => !BRITISH_SURNAMES.includes(s));

/** A quarter from the ranked common names, three quarters from the tail (flatter Zipf). */
function britishSurnames(): WeightedList<string> {
  const common = [...new Set(BRITISH_SURNAMES)];
  const commonWeights = common.map((_, i) => (i + 1) ** -0.7);
  const commonTotal = commonWeights.reduce((s, w) => s + w, 0);
  const tailWeights = uniqueTail.map((_, i) => (i + 1) ** -0.3);
  const tailTotal = tailWeights.reduce((s, w) => s + w, 0);
  return new WeightedList(
    [...common, ...uniqueTail],
    [...commonWeights.map((w) => (0.25 * w) / commonTotal), ...tailWeights.map((w) => (0.75 * w) / tailTotal)],
  );
}

const POOLS: Record<NamePool, Pool> = {
  british: { male: null, female: null, britishGivenShare: 1, surnames: britishSurnames() },
  irish: {
    male: zipf(words('Sean Patrick Michael John Declan Ciaran Liam Conor Niall Kevin Brendan Eamon Dermot Cian Darragh'), 0.6),
    female: zipf(words('Siobhan Mary Niamh Aoife Ciara Sinead Roisin Bridget Kathleen Orla Aisling Grainne Maeve Deirdre Caitlin'), 0.6),
    britishGivenShare: 0.6,
    surnames: zipf(words("Murphy Kelly O'Brien Ryan O'Connor Walsh Byrne O'Sullivan McCarthy Doyle Gallagher Kennedy Lynch Quinn Brennan Fitzgerald Connolly Donnelly Maguire Boyle"), 0.7),
  },
  eastern_european: {
    male: zipf(words('Piotr Tomasz Krzysztof Pawel Marcin Andrzej Michal Jakub Mateusz Dawid Andrei Ionut Mihai Alexandru Marius Gheorghe Jonas Tomas Martins Janis'), 0.6),
    female: zipf(words('Anna Katarzyna Agnieszka Magdalena Joanna Monika Ewa Marta Justyna Natalia Ioana Maria Elena Andreea Alina Daria Zuzanna Kristina Inga Laura'), 0.6),
    britishGivenShare: 0.3,
    surnames: zipf(words('Nowak Kowalski Wisniewski Wojcik Kaminski Lewandowski Zielinski Szymanski Wozniak Dabrowski Popescu Ionescu Popa Stan Dumitru Constantin Kazlauskas Petrauskas Ozols Horvath Nagy Novak Dvorak Ivanov Petrov'), 0.6),
  },
  south_asian_muslim: {
    male: zipf(words('Muhammad Mohammed Ahmed Ali Hassan Hussain Ibrahim Yusuf Imran Adnan Bilal Faisal Omar Zain Tariq Asif Kamran Shahid Abdul Usman Hamza Ayaan Zakariya Rizwan Sajid'), 0.6),
    female: zipf(words('Fatima Aisha Ayesha Maryam Zainab Khadija Amina Sana Nadia Samina Shazia Nazia Rubina Hafsa Iqra Zara Hira Safiya Noor Anum Yasmin Shabana Parveen Nasreen Rukhsana'), 0.6),
    britishGivenShare: 0.05,
    surnames: zipf(words('Khan Hussain Ahmed Ali Akhtar Iqbal Mahmood Rashid Shah Malik Butt Raja Chaudhry Mirza Aslam Rahman Islam Miah Uddin Hossain Choudhury Begum Bibi Anwar Javed'), 0.7),
  },
  indian: {
    male: zipf(words('Raj Amit Vikram Sanjay Rahul Arjun Rohan Anil Ravi Deepak Sunil Manish Harpreet Gurpreet Jaspal Kuldip Aarav Krish Dev Nikhil Vijay Ajay Mandeep Ramesh Suresh'), 0.6),
    female: zipf(words('Priya Anjali Pooja Sunita Neha Kiran Meena Asha Divya Rina Harjit Manpreet Simran Jaspreet Anika Aanya Diya Riya Shreya Kavita Nisha Rupinder Amrit Hema Geeta'), 0.6),
    britishGivenShare: 0.1,
    surnames: zipf(words('Patel Singh Kaur Sharma Kumar Shah Gill Sandhu Mistry Parmar Chauhan Sidhu Dhillon Bains Gupta Joshi Mehta Desai Rai Lal Bhatt Thakkar Virdee Johal Kang'), 0.8),
  },
  other_asian: {
    male: zipf(words('Joseph Mark Ramesh Suresh Tharshan Kamal Bishal Ahmad Jose Angelo Nimal Roshan Prakash Sanjeev Mohammad Reza Dinesh Rajan'), 0.5),
    female: zipf(words('Maria Grace Joy Lakshmi Nirmala Tharshini Sita Anjana Rosa Cristina Dilani Shanthi Sabina Anusha Leticia Parisa Sarita Kumari'), 0.5),
    britishGivenShare: 0.25,
    surnames: zipf(words('Santos Reyes Cruz Fernando Perera Silva Gurung Thapa Rai Tamang Sivakumar Rahimi Ahmadi Nguyen Tran Mendoza Garcia Bautista Jayasuriya Magar'), 0.5),
  },
  chinese: {
    male: zipf(words('Wei Jun Hao Ming Jian Lei Kai Yang Bo Tao Chen Zhi Hong Yi'), 0.5),
    female: zipf(words('Mei Xin Li Ying Yan Hui Jing Lin Fang Min Xiao Qing Yu Lan'), 0.5),
    britishGivenShare: 0.45,
    surnames: zipf(words('Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Chan Wong Lam Cheung Ho Ng Tang Yeung Leung Lau'), 0.7),
  },
  black_african: {
    male: zipf(words('Samuel Daniel Emmanuel David Michael Joseph Oluwaseun Chinedu Emeka Tunde Kwame Kofi Abdi Mohamed Yusuf Tendai Chukwuemeka Obinna Femi Kwabena'), 0.6),
    female: zipf(words('Grace Blessing Mercy Esther Faith Precious Ruth Deborah Adaeze Chioma Ngozi Funmilayo Folake Abena Ama Amina Hodan Fadumo Nkechi Tolulope'), 0.6),
    britishGivenShare: 0.2,
    surnames: zipf(words('Okafor Adeyemi Okonkwo Mensah Boateng Asante Owusu Adebayo Olawale Eze Nwosu Ogunleye Moyo Ndlovu Mohamed Abdi Osei Appiah Balogun Ibrahim Hassan Mwangi Banda Phiri Kamara'), 0.6),
  },
  black_caribbean: {
    male: null,
    female: null,
    britishGivenShare: 1,
    surnames: zipf(words('Campbell Brown Williams Thomas Johnson Francis Grant Henry Clarke Samuels Reid Bailey Morgan Richards Lewis Gordon Forbes McKenzie Powell Stewart Edwards Bennett Walker Robinson Hylton'), 0.6),
  },
  arab: {
    male: zipf(words('Ahmed Mohammed Omar Ali Khalid Youssef Karim Hassan Samir Tariq Mustafa Walid Adam Ibrahim'), 0.6),
    female: zipf(words('Fatima Layla Noor Yasmin Leila Rania Salma Huda Mariam Dina Sara Amira Lina Hana'), 0.6),
    britishGivenShare: 0.15,
    surnames: zipf(words('Haddad Mansour Nasser Khalil Saleh Hamdan Aziz Farah Ibrahim Hassan Abdullah Said Karimi Hosseini Rahimi Yilmaz Kaya Demir'), 0.5),
  },
};

/**
 * The name pool for an NHS data dictionary ethnic category code (A–S, Z). Mixed groups draw a
 * British given name and, for some, a surname from the other parent's pool (see `surnameFor`).
 */
export function namePoolOf(ethnicity: string): NamePool {
  switch (ethnicity) {
    case 'B':
      return 'irish';
    case 'C':
      return 'eastern_european';
    case 'H':
      return 'indian';
    case 'J':
    case 'K':
      return 'south_asian_muslim';
    case 'L':
      return 'other_asian';
    case 'R':
      return 'chinese';
    case 'N':
      return 'black_african';
    case 'M':
    case 'P':
    case 'D':
      return 'black_caribbean';
    case 'E':
      return 'black_african';
    case 'F':
      return 'indian';
    case 'S':
      return 'arab';
    default:
      return 'british';
  }
}

/** Mixed ethnic groups: most carry a British surname, some their other parent's. */
const MIXED = new Set(['D', 'E', 'F', 'G']);

/** A given name for someone of this sex, birth year and ethnic category. */
export function givenNameFor(random: Random, sex: Sex, birthYear: number, ethnicity: string): string {
  const pool = POOLS[namePoolOf(ethnicity)];
  const own = sex === 'male' ? pool.male : pool.female;
  // Children born in England take British names more often in every community; mixed groups mostly do.
  const britishShare = MIXED.has(ethnicity) ? 0.85 : birthYear >= 1980 ? Math.min(1, pool.britishGivenShare * 1.5) : pool.britishGivenShare;
  if (!own || random.chance(britishShare)) {
    const cohort = cohortOf(BRITISH_COHORTS, birthYear);
    return (sex === 'male' ? cohort.male : cohort.female).pick(random);
  }
  return own.pick(random);
}

/** A family name for a household of this ethnic category (sex for names that differ by sex). */
export function surnameFor(random: Random, ethnicity: string, sex: Sex): string {
  if (MIXED.has(ethnicity) && random.chance(0.7)) return POOLS.british.surnames.pick(random);
  const pool = POOLS[namePoolOf(ethnicity)];
  let name = pool.surnames.pick(random);
  if (name === 'Kaur' && sex === 'male') name = 'Singh';
  if ((name === 'Begum' || name === 'Bibi') && sex === 'male') name = 'Miah';
  return adaptSurnameToSex(name, sex);
}

/** Polish surnames ending -ski/-cki take -ska/-cka for women; others are the same for both. */
export function adaptSurnameToSex(surname: string, sex: Sex): string {
  if (sex === 'female' && /(sk|ck)i$/.test(surname)) return `${surname.slice(0, -1)}a`;
  if (sex === 'male' && /(sk|ck)a$/.test(surname)) return `${surname.slice(0, -1)}i`;
  return surname;
}

/** A British surname (for a double-barrelled name or a spouse of another community). */
export function britishSurname(random: Random): string {
  return POOLS.british.surnames.pick(random);
}

// ---------------------------------------------------------------------------------------------
// Addresses.

const STREET_STEMS = zipf(
  words(`High Church Station Mill Victoria Park London Manor Queens Kings School Green Chapel Grange Springfield
  Orchard Meadow New Albert North South West Main York Windsor Alexandra Elm Oak Ash Beech Willow Cedar Maple Chestnut
  Holly Rowan Hawthorn Primrose Bluebell Brook Riverside Bridge Castle Abbey Priory Cherry Hill Bank Moor Common Croft
  Stanley Princess Market Bath Broad Malvern Hereford Worcester Severn Wye Lime Poplar Sycamore Laburnum Lansdowne
  Cromwell Nelson Wellington Gladstone Elgar Shakespeare Milton Newton`),
  0.5,
);
const STREET_KINDS = new WeightedList(words('Road Street Lane Close Avenue Drive Way Crescent Gardens Place Grove Court View Walk Rise Mews'), [30, 22, 14, 10, 8, 6, 4, 3, 2, 2, 2, 2, 1, 1, 1, 1]);

/** A street address line, e.g. "14 Mill Lane" (the High Street stays "High Street"). */
export function streetLine(random: Random): string {
  const stem = STREET_STEMS.pick(random);
  const street = stem === 'High' ? 'High Street' : `${stem} ${STREET_KINDS.pick(random)}`;
  // Most houses are in the first hundred numbers of a street; a few have a flat number.
  const number = 1 + Math.floor(random.next() ** 1.6 * 160);
  if (random.chance(0.06)) return `Flat ${random.int(1, 12)}, ${number} ${street}`;
  return `${number} ${street}`;
}

/** Letters that may follow the digit of an inward code (Royal Mail excludes C I K M O V). */
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

/** A synthetic inward code ("4AB"): valid in form, not a real address. */
export function inwardCode(random: Random): string {
  return `${random.int(1, 9)}${INWARD_LETTERS[random.int(0, 19)]}${INWARD_LETTERS[random.int(0, 19)]}`;
}

// ---------------------------------------------------------------------------------------------
// For the feeds' flawed copies.

/** Familiar forms of given names, as people give them at a front desk. */
export const NICKNAMES: Readonly<Record<string, readonly string[]>> = {
  William: ['Bill', 'Will', 'Billy'],
  Robert: ['Bob', 'Rob', 'Bobby'],
  Richard: ['Rick', 'Dick', 'Richie'],
  James: ['Jim', 'Jimmy', 'Jamie'],
  John: ['Jack', 'Johnny'],
  Michael: ['Mike', 'Mick'],
  Christopher: ['Chris'],
  Thomas: ['Tom', 'Tommy'],
  Anthony: ['Tony'],
  Stephen: ['Steve'],
  Steven: ['Steve'],
  Andrew: ['Andy', 'Drew'],
  Edward: ['Ed', 'Ted', 'Eddie'],
  Alexander: ['Alex'],
  Daniel: ['Dan', 'Danny'],
  Matthew: ['Matt'],
  Joseph: ['Joe'],
  Samuel: ['Sam'],
  Benjamin: ['Ben'],
  Jonathan: ['Jon'],
  Nicholas: ['Nick'],
  Frederick: ['Fred', 'Freddie'],
  Albert: ['Bert', 'Albie'],
  Alfred: ['Alf', 'Alfie'],
  Harold: ['Harry'],
  Henry: ['Harry'],
  Kenneth: ['Ken'],
  Ronald: ['Ron', 'Ronnie'],
  Donald: ['Don'],
  Leslie: ['Les'],
  Raymond: ['Ray'],
  Stanley: ['Stan'],
  Peter: ['Pete'],
  David: ['Dave'],
  Terence: ['Terry'],
  Philip: ['Phil'],
  Timothy: ['Tim'],
  Gregory: ['Greg'],
  Oliver: ['Ollie'],
  Theodore: ['Theo', 'Teddy'],
  Archibald: ['Archie'],
  Muhammad: ['Mo'],
  Mohammed: ['Mo'],
  Elizabeth: ['Liz', 'Beth', 'Betty', 'Lizzie'],
  Margaret: ['Maggie', 'Peggy', 'Meg'],
  Katherine: ['Kate', 'Kathy', 'Katie'],
  Catherine: ['Kate', 'Cathy', 'Cath'],
  Jennifer: ['Jenny', 'Jen'],
  Patricia: ['Pat', 'Trish'],
  Susan: ['Sue', 'Susie'],
  Deborah: ['Debbie', 'Deb'],
  Rebecca: ['Becky', 'Becca'],
  Jessica: ['Jess'],
  Victoria: ['Vicky', 'Tori'],
  Samantha: ['Sam'],
  Charlotte: ['Charlie', 'Lottie'],
  Dorothy: ['Dot', 'Dottie'],
  Kathleen: ['Kath'],
  Christine: ['Chris', 'Chrissie'],
  Jacqueline: ['Jackie'],
  Pamela: ['Pam'],
  Gillian: ['Gill'],
  Alison: ['Ali'],
  Nicola: ['Nicky'],
  Joanne: ['Jo'],
  Amanda: ['Mandy'],
  Sandra: ['Sandy'],
  Valerie: ['Val'],
  Barbara: ['Barb'],
  Eleanor: ['Ellie'],
  Abigail: ['Abi'],
  Isabella: ['Bella', 'Izzy'],
  Florence: ['Flo'],
  Penelope: ['Penny'],
  Natalie: ['Nat'],
  Jacob: ['Jake'],
};

/** Spellings of the same name that records mix up. */
export const SPELLING_VARIANTS: readonly (readonly string[])[] = [
  ['Muhammad', 'Mohammed', 'Mohammad', 'Muhammed'],
  ['Stephen', 'Steven'],
  ['Catherine', 'Katherine', 'Kathryn'],
  ['Sarah', 'Sara'],
  ['Philip', 'Phillip'],
  ['Geoffrey', 'Jeffrey'],
  ['Ann', 'Anne'],
  ['Claire', 'Clare'],
  ['Jon', 'John'],
  ['Aisha', 'Ayesha'],
  ['Zoe', 'Zoë'],
  ['Hayley', 'Haley'],
  ['Kayleigh', 'Kayley'],
  ['Carol', 'Carole'],
  ['Lesley', 'Leslie'],
  ['Smith', 'Smyth'],
  ['Clarke', 'Clark'],
  ['Thompson', 'Thomson'],
  ['Davies', 'Davis'],
  ['Hussain', 'Hussein', 'Husain'],
  ['Chaudhry', 'Choudhury', 'Chowdhury'],
  ['Mohamed', 'Mohammed'],
];
