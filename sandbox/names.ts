// Word lists for the seeded demo tenant.

export const FIRST_NAMES = [
  'Adele', 'Alex', 'Allan', 'Amara', 'Ana', 'Andre', 'Anika', 'Arjun', 'Ava', 'Ben', 'Bianca', 'Brian', 'Camille', 'Carlos',
  'Chen', 'Chloe', 'Christie', 'Daniel', 'Deepa', 'Diego', 'Elena', 'Emily', 'Emeka', 'Enrico', 'Fatima', 'Felix', 'Fiona',
  'Gabriel', 'Grace', 'Grady', 'Hana', 'Harper', 'Henrietta', 'Hiroshi', 'Ian', 'Ines', 'Irvin', 'Isaiah', 'Jakob', 'James',
  'Johanna', 'Joni', 'Jun', 'Kai', 'Kamala', 'Lars', 'Laura', 'Lee', 'Leila', 'Lidia', 'Liam', 'Lucas', 'Luis', 'Lynne',
  'Maya', 'Megan', 'Miguel', 'Miriam', 'Nadia', 'Nestor', 'Nikolai', 'Noah', 'Olga', 'Omar', 'Patti', 'Pradeep', 'Priya',
  'Rafael', 'Raul', 'Rosa', 'Sakura', 'Samuel', 'Sara', 'Sofia', 'Sven', 'Tariq', 'Thomas', 'Tomas', 'Valentina', 'Wei',
  'Yara', 'Yusuf', 'Zainab', 'Zoe',
];

export const LAST_NAMES = [
  'Abbott', 'Adams', 'Ahmed', 'Alvarez', 'Andersen', 'Bakker', 'Banerjee', 'Becker', 'Bianchi', 'Brooks', 'Campbell', 'Chen',
  'Costa', 'Dubois', 'Edwards', 'Eriksson', 'Fernandes', 'Fischer', 'Garcia', 'Gonzalez', 'Gupta', 'Hansen', 'Hernandez',
  'Ito', 'Jansen', 'Johnson', 'Kaur', 'Khan', 'Kim', 'Kowalski', 'Larsen', 'Lee', 'Lopez', 'Martin', 'Meyer', 'Moreau',
  'Müller', 'Nakamura', 'Nguyen', 'Novak', 'Okafor', 'Olsen', 'Patel', 'Perez', 'Petrov', 'Rossi', 'Santos', 'Schmidt',
  'Silva', 'Singh', 'Smith', 'Sorensen', 'Suzuki', 'Tanaka', 'Taylor', 'Thomas', 'Torres', 'Varga', 'Wagner', 'Walker',
  'Wang', 'Weber', 'Williams', 'Wilson', 'Wright', 'Yamamoto', 'Young', 'Zhang',
];

export interface DepartmentDef {
  name: string;
  head: string;
  manager: string;
  titles: string[];
  weight: number;
}

export const DEPARTMENTS: DepartmentDef[] = [
  { name: 'Sales', head: 'VP Sales', manager: 'Sales Manager', titles: ['Account Executive', 'Sales Representative', 'Sales Engineer', 'Inside Sales Associate'], weight: 20 },
  { name: 'Marketing', head: 'Chief Marketing Officer', manager: 'Marketing Manager', titles: ['Marketing Specialist', 'Content Strategist', 'Product Marketing Manager', 'Designer'], weight: 10 },
  { name: 'Engineering', head: 'VP Engineering', manager: 'Engineering Manager', titles: ['Software Engineer', 'Senior Software Engineer', 'QA Engineer', 'Site Reliability Engineer'], weight: 22 },
  { name: 'Finance', head: 'Chief Financial Officer', manager: 'Finance Manager', titles: ['Accountant', 'Financial Analyst', 'Payroll Specialist', 'Controller'], weight: 8 },
  { name: 'Human Resources', head: 'Chief People Officer', manager: 'HR Manager', titles: ['HR Generalist', 'Recruiter', 'People Partner', 'Benefits Specialist'], weight: 6 },
  { name: 'IT', head: 'Chief Information Officer', manager: 'IT Manager', titles: ['Systems Administrator', 'Help Desk Technician', 'Security Analyst', 'Network Engineer'], weight: 8 },
  { name: 'Operations', head: 'Chief Operating Officer', manager: 'Operations Manager', titles: ['Operations Analyst', 'Logistics Coordinator', 'Facilities Coordinator', 'Warehouse Associate'], weight: 14 },
  { name: 'Legal', head: 'General Counsel', manager: 'Legal Manager', titles: ['Paralegal', 'Corporate Counsel', 'Compliance Officer'], weight: 4 },
  { name: 'Customer Support', head: 'VP Customer Success', manager: 'Support Manager', titles: ['Support Engineer', 'Customer Success Manager', 'Support Agent'], weight: 8 },
];

export const OFFICES = [
  { officeLocation: 'Seattle', city: 'Seattle', state: 'WA', country: 'United States', usageLocation: 'US', preferredLanguage: 'en-US', phonePrefix: '+1 206 555 ', timeZone: 'Pacific Standard Time' },
  { officeLocation: 'New York', city: 'New York', state: 'NY', country: 'United States', usageLocation: 'US', preferredLanguage: 'en-US', phonePrefix: '+1 212 555 ', timeZone: 'Eastern Standard Time' },
  { officeLocation: 'London', city: 'London', state: null, country: 'United Kingdom', usageLocation: 'GB', preferredLanguage: 'en-GB', phonePrefix: '+44 20 7946 ', timeZone: 'GMT Standard Time' },
  { officeLocation: 'Berlin', city: 'Berlin', state: null, country: 'Germany', usageLocation: 'DE', preferredLanguage: 'de-DE', phonePrefix: '+49 30 5557 ', timeZone: 'W. Europe Standard Time' },
  { officeLocation: 'Paris', city: 'Paris', state: null, country: 'France', usageLocation: 'FR', preferredLanguage: 'fr-FR', phonePrefix: '+33 1 5550 ', timeZone: 'Romance Standard Time' },
  { officeLocation: 'Singapore', city: 'Singapore', state: null, country: 'Singapore', usageLocation: 'SG', preferredLanguage: 'en-SG', phonePrefix: '+65 6555 ', timeZone: 'Singapore Standard Time' },
];
